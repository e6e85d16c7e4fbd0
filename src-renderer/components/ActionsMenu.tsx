import { useEffect, useLayoutEffect, useRef, type KeyboardEvent } from 'react';
import type { MountStatus } from '../../src-shared/mountState.ts';
import type { BridgeCapabilities } from '../../src-shared/bridge.ts';
import { noCidReason } from '../lib/cids.ts';
import { mountName } from '../lib/format.ts';
import { browseTo, closeMenu, openDialog } from '../store/actions.ts';
import { copyFor, openFolderOf, toggleMount } from '../store/commands.ts';
import { useBerth } from '../store/index.ts';
import type { MenuTarget, OpenMenu } from '../store/ui.ts';

/** One item of the menu; `disabled` is the reason, shown as its tooltip. */
interface Item {
  label: string;
  run: () => void;
  disabled?: string;
  /** A separator goes before this item. */
  group?: boolean;
}

/** The menu's items for a mount or an entry inside it (UI.md "Actions menu"). */
export function menuItems(m: MountStatus, target: MenuTarget, caps: BridgeCapabilities): Item[] {
  const entry = target.entry;
  const cidWhy = entry && !entry.cid ? (noCidReason(m, target.path) ?? `${entry.name} has no CID`) : noCidReason(m, target.path);
  const items: Item[] = [
    { label: 'Copy CID', run: () => void copyFor(target, 'cid'), ...(cidWhy ? { disabled: cidWhy } : {}) },
    { label: 'Copy gateway link', run: () => void copyFor(target, 'link'), ...(cidWhy ? { disabled: cidWhy } : {}) },
    { label: 'Copy ipfs:// link', run: () => void copyFor(target, 'native'), ...(cidWhy ? { disabled: cidWhy } : {}) },
  ];
  const folderWhy = !caps.openFolder
    ? 'Opening folders needs the Berth desktop app'
    : m.spec.host.kind !== 'fuse'
      ? 'An NFS export has no folder on this computer'
      : m.state !== 'mounted'
        ? 'Mount it first'
        : undefined;
  items.push({ label: 'Open folder', run: () => void openFolderOf(target), group: true, ...(folderWhy ? { disabled: folderWhy } : {}) });
  if (!entry || entry.type === 'dir') {
    items.push({
      label: 'Browse',
      run: () => browseTo(target.id, target.path),
      ...(m.state !== 'mounted' ? { disabled: 'Mount it first to browse its files' } : {}),
    });
  }
  if (!entry) {
    const busy = m.state === 'mounting' || m.state === 'unmounting';
    items.push(
      {
        label: m.state === 'mounted' ? 'Unmount' : 'Mount',
        run: () => void toggleMount(m.id),
        group: true,
        ...(busy ? { disabled: `${mountName(m)} is ${m.state}` } : {}),
      },
      { label: 'Edit…', run: () => openDialog({ kind: 'edit', id: m.id }) },
      { label: 'Remove…', run: () => openDialog({ kind: 'remove', id: m.id }) },
    );
  }
  return items;
}

/** The open actions menu: opened by right-click, the ⋯ button, or Shift+F10 / the Menu key. */
export function ActionsMenu() {
  const menu = useBerth((s) => s.menu);
  if (!menu) return null;
  // A new key per opening: focus and position start fresh.
  return <MenuPopup key={`${menu.id}:${menu.path}:${menu.x}:${menu.y}`} menu={menu} />;
}

function MenuPopup({ menu }: { menu: OpenMenu }) {
  const m = useBerth((s) => s.mountsById[menu.id]);
  const caps = useBerth((s) => s.capabilities);
  const ref = useRef<HTMLDivElement>(null);
  const returnTo = useRef<HTMLElement | null>(null);

  // Keep the menu inside the window, then focus its first item.
  useLayoutEffect(() => {
    returnTo.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const el = ref.current;
    if (!el) return;
    const r = el.getBoundingClientRect();
    const x = Math.max(4, Math.min(menu.x, window.innerWidth - r.width - 4));
    const y = menu.y + r.height > window.innerHeight - 4 ? Math.max(4, menu.y - r.height) : menu.y;
    el.style.left = `${x}px`;
    el.style.top = `${y}px`;
    el.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [menu.x, menu.y]);

  // A click anywhere else, or the window losing focus, closes it.
  useEffect(() => {
    const away = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) closeMenu();
    };
    document.addEventListener('mousedown', away, true);
    window.addEventListener('blur', closeMenu);
    window.addEventListener('resize', closeMenu);
    return () => {
      document.removeEventListener('mousedown', away, true);
      window.removeEventListener('blur', closeMenu);
      window.removeEventListener('resize', closeMenu);
    };
  }, []);

  if (!m) return null;
  const items = menuItems(m, menu, caps);
  const title = menu.entry ? menu.entry.name : mountName(m);

  const close = (refocus: boolean) => {
    closeMenu();
    if (refocus && returnTo.current?.isConnected) returnTo.current.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const all = [...(ref.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const i = all.indexOf(document.activeElement as HTMLElement);
    const go = (n: number) => {
      e.preventDefault();
      all[(n + all.length) % all.length]?.focus();
    };
    if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(all.length - 1);
    else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close(true);
    } else if (e.key === 'Tab') close(false);
  };

  return (
    <div ref={ref} className="menu" role="menu" aria-label={`Actions for ${title}`} onKeyDown={onKeyDown} onContextMenu={(e) => e.preventDefault()}>
      {items.map((item) => (
        <div key={item.label} role="none" className={item.group ? 'menu-group' : undefined}>
          {item.group && <div role="separator" className="menu-separator" />}
          <button
            type="button"
            role="menuitem"
            tabIndex={-1}
            aria-disabled={item.disabled ? true : undefined}
            title={item.disabled}
            onClick={() => {
              if (item.disabled) return;
              close(true);
              item.run();
            }}
          >
            {item.label}
          </button>
        </div>
      ))}
    </div>
  );
}
