import { startTransition, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { mountName, sourceParts, whereText } from '../lib/format.ts';
import { openDialog, select, setFilter } from '../store/actions.ts';
import { toggleMount } from '../store/commands.ts';
import { useBerth, type State } from '../store/index.ts';
import { LAYOUT_COLUMNS, MountRow, openMenuBelow, type TableLayout } from './MountRow.tsx';

/** True while the media query matches (the window's width decides the table's columns). */
function useMedia(query: string): boolean {
  const [match, setMatch] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const mq = window.matchMedia(query);
    const on = () => setMatch(mq.matches);
    on();
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [query]);
  return match;
}

/**
 * Rows rendered in the first pass: more than a tall window shows. The rest follow in a
 * transition right after the first paint, so a table of hundreds shows at once and stays
 * responsive while it completes.
 */
const FIRST_ROWS = 60;

/** Header cell of each column. */
const HEADERS: Record<(typeof LAYOUT_COLUMNS)['full'][number], { label: string; hidden?: boolean }> = {
  switch: { label: 'On', hidden: true },
  name: { label: 'Name' },
  source: { label: 'Source' },
  where: { label: 'Where' },
  state: { label: 'State' },
  more: { label: 'Actions', hidden: true },
};

/** The ids to show: all of them, or those whose name, source or place match the filter. */
function visibleIds(s: State): string[] {
  const f = s.filter.trim().toLowerCase();
  if (f === '') return s.mountIds;
  return s.mountIds.filter((id) => {
    const m = s.mountsById[id];
    if (!m) return false;
    const src = sourceParts(m.spec.guest);
    return [mountName(m), src.kind, src.full, whereText(m), m.state].some((t) => t.toLowerCase().includes(f));
  });
}

/** What the window shows before the first mount: one sentence, the button, and the drop hint. */
function EmptyState() {
  return (
    <div className="empty-state">
      <p className="empty-title">No mounts yet.</p>
      <p>Mount an IPFS CID or link, an NFS share or a local folder, and Berth keeps it mounted as a folder, at every start.</p>
      <button type="button" className="primary" onClick={() => openDialog({ kind: 'add' })}>
        <span aria-hidden="true">+ </span>Add mount
      </button>
      <p className="drop-hint">or drop a CID here</p>
    </div>
  );
}

/**
 * The live mount table (named "Mounts"). One Tab stop: ↑/↓ move between rows, Space
 * toggles, Enter opens the details, Shift+F10 or the Menu key opens the actions, Delete
 * asks to remove (UI.md "Keyboard and names").
 */
export function MountTable() {
  const ids = useBerth(useShallow(visibleIds));
  const total = useBerth((s) => s.mountIds.length);
  const loaded = useBerth((s) => s.loaded);
  const filter = useBerth((s) => s.filter);
  const selectedId = useBerth((s) => s.selectedId);
  const narrow = useMedia('(max-width: 720px)');
  const layout: TableLayout = selectedId !== undefined ? 'side' : narrow ? 'narrow' : 'full';
  const columns = LAYOUT_COLUMNS[layout];
  const [activeId, setActiveId] = useState<string | undefined>(undefined);
  const [allRows, setAllRows] = useState(false);
  useEffect(() => {
    if (allRows || ids.length <= FIRST_ROWS) return;
    const t = setTimeout(() => startTransition(() => setAllRows(true)), 0);
    return () => clearTimeout(t);
  }, [allRows, ids.length]);
  const shown = allRows ? ids : ids.slice(0, FIRST_ROWS);
  const body = useRef<HTMLDivElement>(null);
  const active = activeId !== undefined && ids.includes(activeId) ? activeId : (selectedId !== undefined && ids.includes(selectedId) ? selectedId : ids[0]);

  // Follow the selection made elsewhere (a click, the details pane).
  useEffect(() => {
    if (selectedId !== undefined) setActiveId(selectedId);
  }, [selectedId]);

  const rowEl = (id: string) => body.current?.querySelector<HTMLElement>(`.mount-row[data-id="${CSS.escape(id)}"]`);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const row = (e.target as HTMLElement).closest<HTMLElement>('.mount-row');
    const id = row?.dataset.id;
    if (!row || !id) return;
    const onRow = e.target === row;
    const move = (to: string | undefined) => {
      if (!to) return;
      e.preventDefault();
      setActiveId(to);
      rowEl(to)?.focus();
    };
    const i = ids.indexOf(id);
    switch (e.key) {
      case 'ArrowDown':
        return move(ids[i + 1]);
      case 'ArrowUp':
        return move(ids[i - 1]);
      case 'Home':
        return onRow ? move(ids[0]) : undefined;
      case 'End':
        return onRow ? move(ids.at(-1)) : undefined;
      case ' ':
        if (!onRow) return;
        e.preventDefault();
        void toggleMount(id);
        return;
      case 'Enter':
        if (!onRow) return;
        e.preventDefault();
        select(id);
        return;
      case 'Delete':
        e.preventDefault();
        openDialog({ kind: 'remove', id });
        return;
      case 'ContextMenu':
        e.preventDefault();
        openMenuBelow(id, row.querySelector('.c-name') ?? row);
        return;
      case 'F10':
        if (!e.shiftKey) return;
        e.preventDefault();
        openMenuBelow(id, row.querySelector('.c-name') ?? row);
        return;
    }
  };

  return (
    <section className="mounts" aria-labelledby="mounts-heading">
      <div className="section-head">
        <h2 id="mounts-heading">Mounts</h2>
        {total > 0 && (
          <input
            type="search"
            className="filter"
            placeholder="Filter"
            aria-label="Filter mounts"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
        )}
      </div>
      {loaded && total === 0 ? (
        <EmptyState />
      ) : (
        <div className="table-scroll">
          {/* ARIA table roles on CSS grid rows: each row lays out alone, and rows out of
              view skip layout (content-visibility), so 500 mounts render quickly. */}
          <div role="table" className={`mount-table layout-${layout}`} aria-labelledby="mounts-heading" aria-rowcount={ids.length + 1}>
            <div role="rowgroup" className="mt-head">
              <div role="row" className="mt-row">
                {columns.map((c) => (
                  <div key={c} role="columnheader" className={`c-${c}`}>
                    {HEADERS[c].hidden ? <span className="visually-hidden">{HEADERS[c].label}</span> : HEADERS[c].label}
                  </div>
                ))}
              </div>
            </div>
            <div
              role="rowgroup"
              className="mt-body"
              ref={body}
              onKeyDown={onKeyDown}
              onFocus={(e) => {
                const id = (e.target as HTMLElement).closest<HTMLElement>('.mount-row')?.dataset.id;
                if (id && id !== activeId) setActiveId(id);
              }}
            >
              {shown.map((id) => (
                <MountRow key={id} id={id} active={id === active} layout={layout} />
              ))}
              {!loaded && (
                <div role="row" className="note-row">
                  <div role="cell" className="muted">
                    Loading the mount table…
                  </div>
                </div>
              )}
              {loaded && ids.length === 0 && total > 0 && (
                <div role="row" className="note-row">
                  <div role="cell" className="muted">
                    No mount matches “{filter}”.
                  </div>
                </div>
              )}
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
