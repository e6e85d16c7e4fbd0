import { memo } from 'react';
import { homeOf, mountName, rowProblem, sourceParts, whereText } from '../lib/format.ts';
import { openMenu, select } from '../store/actions.ts';
import { retryNow, toggleMount } from '../store/commands.ts';
import { useShallow } from 'zustand/react/shallow';
import { useBerth } from '../store/index.ts';
import { StateChip } from './StateChip.tsx';

/**
 * Which columns the table shows: all of them; without Source in a narrow window; and
 * beside the details pane only switch, name, state and ⋯ (the pane shows the rest).
 */
export type TableLayout = 'full' | 'narrow' | 'side';

/** The columns of each layout, in order. */
export const LAYOUT_COLUMNS: Record<TableLayout, readonly ('switch' | 'name' | 'source' | 'where' | 'state' | 'more')[]> = {
  full: ['switch', 'name', 'source', 'where', 'state', 'more'],
  narrow: ['switch', 'name', 'where', 'state', 'more'],
  side: ['switch', 'name', 'state', 'more'],
};

/** Opens the actions menu for a mount below an element (the ⋯ button, or the row from the keyboard). */
export function openMenuBelow(id: string, el: Element): void {
  const r = el.getBoundingClientRect();
  openMenu({ id, path: '/', x: Math.round(r.left + Math.min(r.width, 40)), y: Math.round(r.bottom) });
}

/**
 * One mount: switch, name, source, where, state, ⋯; and under a failed, stale or
 * unreachable one, its error with the hint and the way out. It re-renders only when its
 * own mount (or whether it is selected or active) changes.
 */
export const MountRow = memo(function MountRow({ id, active, layout }: { id: string; active: boolean; layout: TableLayout }) {
  // One subscription per row: 500 rows, 500 selector calls per store change.
  const { m, selected, menuOpen, home } = useBerth(
    useShallow((s) => ({
      m: s.mountsById[id],
      selected: s.selectedId === id,
      menuOpen: s.menu?.id === id && s.menu.path === '/',
      home: homeOf(s.info?.defaultMountFolder, s.settings?.mountFolder),
    })),
  );
  const columns = LAYOUT_COLUMNS[layout];
  if (!m) return null;
  const name = mountName(m);
  const src = sourceParts(m.spec.guest, home);
  const where = whereText(m, home);
  const problem = rowProblem(m);
  const busy = m.state === 'mounting' || m.state === 'unmounting';
  const on = m.state === 'mounted' || m.state === 'mounting';
  // Only the active row's controls are in the Tab order (the table is one Tab stop).
  const tab = active ? 0 : -1;
  return (
    <>
      <div
        role="row"
        className={`mount-row${selected ? ' selected' : ''}${problem ? ' has-problem' : ''}`}
        data-id={id}
        data-state={m.state}
        tabIndex={tab}
        aria-selected={selected}
        onClick={() => select(id)}
        onContextMenu={(e) => {
          e.preventDefault();
          // The menu opens in place: selecting would open the pane and move the row under it.
          openMenu({ id, path: '/', x: e.clientX, y: e.clientY });
        }}
      >
        <div role="cell" className="c-switch">
          <button
            type="button"
            role="switch"
            className="switch"
            aria-checked={on}
            aria-label={`Mount ${name}`}
            title={busy ? `${name} is ${m.state}` : on ? `Unmount ${name}` : `Mount ${name}`}
            disabled={busy}
            tabIndex={tab}
            onClick={(e) => {
              e.stopPropagation();
              void toggleMount(id);
            }}
          >
            <span className="switch-thumb" aria-hidden="true" />
          </button>
        </div>
        <div role="cell" className="c-name" title={name}>
          {name}
        </div>
        {columns.includes('source') && (
          <div role="cell" className="c-source" title={src.full}>
            <div className="source-cell">
              <span className="kind">{src.kind}</span>
              <span className="mono start-ellipsis">
                <span dir="ltr">{src.detail}</span>
              </span>
            </div>
          </div>
        )}
        {columns.includes('where') && (
          <div role="cell" className="c-where mono start-ellipsis" title={m.spec.host.kind === 'fuse' ? m.spec.host.mountpoint : where}>
            <span dir="ltr">{where}</span>
          </div>
        )}
        <div role="cell" className="c-state">
          <StateChip mount={m} />
        </div>
        <div role="cell" className="c-more">
          <button
            type="button"
            className="icon-button"
            aria-label="More actions"
            title="More actions"
            aria-haspopup="menu"
            aria-expanded={menuOpen}
            tabIndex={tab}
            onClick={(e) => {
              e.stopPropagation();
              openMenuBelow(id, e.currentTarget);
            }}
          >
            ⋯
          </button>
        </div>
      </div>
      {problem && (
        <div role="row" className="problem-row" data-for={id}>
          <div role="cell" aria-colspan={columns.length} className="problem-cell">
            <div className={`problem tone-${m.state === 'failed' ? 'bad' : 'warn'}`}>
              <span className="problem-text">
                <span aria-hidden="true">└ </span>
                {problem.message}
                {problem.hint && <span className="hint"> — {problem.hint}</span>}
              </span>
              {problem.action && (
                <button type="button" className="small" tabIndex={tab} onClick={() => void retryNow(id)}>
                  {problem.action === 'retry' ? 'Retry now' : 'Mount again'}
                </button>
              )}
            </div>
          </div>
        </div>
      )}
    </>
  );
});
