import type { BrowseEntry } from '../../src-shared/api.ts';

// The ui slice: what the person is doing in the window (selection, the open dialog or
// menu, toasts, a drag under way, the filter). Plain data, so tests can set any screen.

/** The one dialog that can be open. */
export type Dialog =
  | { kind: 'add'; source?: string }
  | { kind: 'edit'; id: string }
  | { kind: 'remove'; id: string }
  | { kind: 'settings' };

/** What an actions menu is about: a mount, or an entry inside one (a browsed file). */
export interface MenuTarget {
  id: string;
  /** Path inside the mount ("/" for the mount itself). */
  path: string;
  /** Set for a browsed entry: its name and type. */
  entry?: { name: string; type: BrowseEntry['type']; cid?: string };
}

/** An open actions menu, at a point in the window. */
export interface OpenMenu extends MenuTarget {
  x: number;
  y: number;
}

/** A short message at the bottom of the window. */
export interface Toast {
  id: number;
  tone: 'info' | 'error';
  title: string;
  /** Details: the copied text, or an error's hint. */
  text?: string;
}

/** The ui slice. */
export interface UiSlice {
  /** The mount whose details pane is open. */
  selectedId?: string;
  /** The folder shown by Browse in the details pane (inside the selected mount). */
  browsePath: string;
  dialog?: Dialog;
  menu?: OpenMenu;
  toasts: Toast[];
  /** True while something is dragged over the window. */
  dragging: boolean;
  filter: string;
}

/** Nothing open, nothing selected. */
export function initialUi(): UiSlice {
  return { browsePath: '/', toasts: [], dragging: false, filter: '' };
}
