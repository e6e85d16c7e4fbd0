import { useBerth } from './index.ts';
import type { Dialog, OpenMenu, Toast } from './ui.ts';

// Plain actions on the window's own state (no service call): selection, dialogs, menus,
// toasts, dragging, the filter. Components and keyboard handlers call these directly.

/** Opens the details pane of a mount (or closes it with undefined); another mount browses from its top. */
export function select(id: string | undefined): void {
  useBerth.setState((s) => (s.selectedId === id ? s : { selectedId: id, browsePath: '/' }));
}

/** Closes the details pane and puts the keyboard back on the mount's row. */
export function closeDetails(): void {
  const id = useBerth.getState().selectedId;
  select(undefined);
  if (id === undefined) return;
  // Only when the focus went away with the pane: never take it from where it is now.
  requestAnimationFrame(() => {
    const at = document.activeElement;
    if (at && at !== document.body) return;
    document.querySelector<HTMLElement>(`.mount-row[data-id="${CSS.escape(id)}"]`)?.focus();
  });
}

/** Shows a folder inside a mount in the details pane (selecting the mount). */
export function browseTo(id: string, path: string): void {
  useBerth.setState({ selectedId: id, browsePath: path });
}

/** Opens one dialog (closing any menu). */
export function openDialog(dialog: Dialog): void {
  useBerth.setState({ dialog, menu: undefined });
}

/** Closes the open dialog. */
export function closeDialog(): void {
  useBerth.setState({ dialog: undefined });
}

/** Opens the actions menu for a mount or a browsed entry. */
export function openMenu(menu: OpenMenu): void {
  useBerth.setState({ menu });
}

/** Closes the actions menu. */
export function closeMenu(): void {
  useBerth.setState({ menu: undefined });
}

/** Shows or hides the drop overlay. */
export function setDragging(dragging: boolean): void {
  if (useBerth.getState().dragging !== dragging) useBerth.setState({ dragging });
}

/** Filters the table by name, source or place. */
export function setFilter(filter: string): void {
  useBerth.setState({ filter });
}

/** How long a toast stays: a copy confirmation 2 s (UI.md), an error long enough to read. */
export const TOAST_MS = { info: 2000, error: 8000 } as const;
/** At most this many toasts at once; older ones make room. */
const MAX_TOASTS = 3;

let nextToastId = 1;

/** Shows a toast for its tone's time; returns its id. */
export function showToast(toast: Omit<Toast, 'id'>, ms: number = TOAST_MS[toast.tone]): number {
  const id = nextToastId++;
  // The same words twice (a double click on Copy) show once, for the full time again.
  useBerth.setState((s) => ({ toasts: [...s.toasts.filter((t) => t.title !== toast.title || t.text !== toast.text), { ...toast, id }].slice(-MAX_TOASTS) }));
  setTimeout(() => dismissToast(id), ms);
  return id;
}

/** Removes a toast. */
export function dismissToast(id: number): void {
  useBerth.setState((s) => (s.toasts.some((t) => t.id === id) ? { toasts: s.toasts.filter((t) => t.id !== id) } : s));
}
