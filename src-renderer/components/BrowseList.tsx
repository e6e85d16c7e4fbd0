import { useCallback, useEffect, useState } from 'react';
import type { BrowseEntry } from '../../src-shared/api.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { BridgeError } from '../../src-shared/bridge.ts';
import { shortCid } from '../../src-shared/sourceInput.ts';
import { noCidReason } from '../lib/cids.ts';
import { formatSize } from '../lib/format.ts';
import { browseTo, openMenu } from '../store/actions.ts';
import { bridge, copyFor } from '../store/commands.ts';
import { useBerth } from '../store/index.ts';
import { CopyIcon } from './icons.tsx';

/** Entries asked for at once; "Show more" asks for the next page. */
export const BROWSE_PAGE = 200;

/** The path of an entry inside the folder `dir`. */
function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** A folder's listing as loaded so far. */
interface Listing {
  path: string;
  entries: BrowseEntry[];
  more: boolean;
  cid?: string;
}

/**
 * The folder view of Browse: names, sizes and CIDs read through the guest (not the kernel
 * mount), in pages; Copy CID / Copy gateway link per entry and the actions menu on each
 * row (right-click, ⋯, or the Menu key).
 */
export function BrowseList({ id, name, version }: { id: string; name: string; version: string }) {
  const path = useBerth((s) => (s.selectedId === id ? s.browsePath : '/'));
  const mount = useBerth((s) => s.mountsById[id]);
  const [listing, setListing] = useState<Listing | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(false);

  const load = useCallback(
    async (offset: number, signal?: { cancelled: boolean }) => {
      setLoading(true);
      try {
        const r = await bridge().browse({ id, path, offset, limit: BROWSE_PAGE });
        if (signal?.cancelled) return;
        setError(undefined);
        setListing((prev) => ({
          path: r.path,
          entries: offset > 0 && prev?.path === r.path ? [...prev.entries, ...r.entries] : r.entries,
          more: r.more,
          ...(r.cid ? { cid: r.cid } : {}),
        }));
      } catch (err) {
        if (signal?.cancelled) return;
        setError(err instanceof BridgeError ? `${err.message}${err.info.hint ? ` — ${err.info.hint}` : ''}` : String(err));
      } finally {
        if (!signal?.cancelled) setLoading(false);
      }
    },
    [id, path],
  );

  useEffect(() => {
    const signal = { cancelled: false };
    setListing(undefined);
    void load(0, signal);
    return () => {
      signal.cancelled = true;
    };
  }, [load, version]);

  const crumbs = path === '/' ? [] : path.slice(1).split('/');
  const entries = listing?.path === path ? listing.entries : [];

  return (
    <div className="browse">
      <nav className="crumbs" aria-label="Folder">
        <button type="button" className="link" onClick={() => browseTo(id, '/')} aria-current={crumbs.length === 0 ? 'location' : undefined}>
          {name}
        </button>
        {crumbs.map((c, i) => (
          <span key={`${i}:${c}`}>
            <span aria-hidden="true"> / </span>
            <button type="button" className="link" onClick={() => browseTo(id, `/${crumbs.slice(0, i + 1).join('/')}`)} aria-current={i === crumbs.length - 1 ? 'location' : undefined}>
              {c}
            </button>
          </span>
        ))}
      </nav>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="table-scroll">
        <table className="browse-table" aria-label={`Files in ${name}${path === '/' ? '' : path}`} aria-busy={loading}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" className="c-size">
                Size
              </th>
              <th scope="col" className="c-actions">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <EntryRow key={e.name} mount={mount} dir={path} entry={e} />
            ))}
            {listing?.path === path && entries.length === 0 && !error && (
              <tr>
                <td colSpan={3} className="muted">
                  This folder is empty.
                </td>
              </tr>
            )}
            {!listing && loading && (
              <tr>
                <td colSpan={3} className="muted">
                  Loading…
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {listing?.more && (
        <button type="button" className="small" disabled={loading} onClick={() => void load(entries.length)}>
          {loading ? 'Loading…' : 'Show more'}
        </button>
      )}
    </div>
  );
}

function EntryRow({ mount, dir, entry }: { mount: MountStatus | undefined; dir: string; entry: BrowseEntry }) {
  const id = mount?.id ?? '';
  const path = join(dir, entry.name);
  const target = { id, path, entry: { name: entry.name, type: entry.type, ...(entry.cid ? { cid: entry.cid } : {}) } };
  // The guest's reason when it has one ("Local folders have no CID").
  const noCid = entry.cid ? undefined : ((mount && noCidReason(mount, path)) ?? `${entry.name} has no CID`);
  const menuAt = (x: number, y: number) => openMenu({ ...target, x, y });
  return (
    <tr
      className="entry-row"
      onContextMenu={(e) => {
        e.preventDefault();
        menuAt(e.clientX, e.clientY);
      }}
      onKeyDown={(e) => {
        if (e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) {
          e.preventDefault();
          const r = (e.target as HTMLElement).getBoundingClientRect();
          menuAt(r.left, r.bottom);
        }
      }}
    >
      <td className="c-name">
        {entry.type === 'dir' ? (
          <button type="button" className="link entry-name" title={entry.name} onClick={() => browseTo(id, path)}>
            <span className="ficon dir" aria-hidden="true" />
            {entry.name}
          </button>
        ) : (
          <span className="entry-name" title={entry.name}>
            <span className={`ficon ${entry.type}`} aria-hidden="true" />
            {entry.name}
          </span>
        )}
        <span className="entry-cid mono" title={entry.cid}>
          {entry.cid ? <><span className="visually-hidden">CID </span>{shortCid(entry.cid)}</> : <span className="muted">no CID</span>}
        </span>
      </td>
      <td className="c-size">{entry.type === 'dir' ? '' : formatSize(entry.size)}</td>
      <td className="c-actions">
        <button type="button" className="small copy" aria-label={`Copy CID of ${entry.name}`} aria-disabled={noCid ? true : undefined} title={noCid ?? 'Copy CID'} onClick={() => !noCid && void copyFor(target, 'cid')}>
          <CopyIcon /> CID
        </button>
        <button type="button" className="small copy" aria-label={`Copy gateway link of ${entry.name}`} aria-disabled={noCid ? true : undefined} title={noCid ?? 'Copy gateway link'} onClick={() => !noCid && void copyFor(target, 'link')}>
          <CopyIcon /> Link
        </button>
        <button
          type="button"
          className="icon-button"
          aria-label={`More actions for ${entry.name}`}
          title="More actions"
          aria-haspopup="menu"
          onClick={(e) => {
            const r = e.currentTarget.getBoundingClientRect();
            menuAt(r.left, r.bottom);
          }}
        >
          ⋯
        </button>
      </td>
    </tr>
  );
}
