import { useEffect, useState } from 'react';
import type { LinkResponse } from '../../src-shared/api.ts';
import type { MountStatus } from '../../src-shared/mountState.ts';
import { shortCid } from '../../src-shared/sourceInput.ts';
import { noCidReason } from '../lib/cids.ts';
import { hostPort, mountName, sourceParts, whereText } from '../lib/format.ts';
import { closeDetails, openDialog } from '../store/actions.ts';
import { bridge, copyFor, copyText, openFolderOf, toggleMount } from '../store/commands.ts';
import { useBerth, useHome } from '../store/index.ts';
import { BrowseList } from './BrowseList.tsx';
import { StateChip } from './StateChip.tsx';

/** The options of a mount in words. */
function optionsOf(m: MountStatus): string[] {
  const h = m.spec.host;
  const g = m.spec.guest;
  const out = [h.kind === 'fuse' ? 'FUSE folder' : `NFS server${h.clients.length ? ` (also for ${h.clients.join(', ')})` : ''}`, h.readOnly ? 'read-only' : 'read-write'];
  out.push(m.spec.autoMount ? 'mounts at start' : 'mounted by hand');
  if ('node' in g && g.node) out.push(`IPFS node ${g.node === 'embedded' ? 'embedded' : hostPort(g.node)}`);
  if (g.timeoutMs !== undefined) out.push(`call timeout ${g.timeoutMs} ms`);
  if (g.cacheExpiryMs !== undefined) out.push(`cache ${g.cacheExpiryMs} ms`);
  if (h.kind === 'fuse' && (h.uid !== undefined || h.gid !== undefined)) out.push(`owner ${h.uid ?? '–'}:${h.gid ?? '–'}`);
  return out;
}

/** The CID of the mount's root with its Copy buttons (or why there is none). */
function CidLine({ m }: { m: MountStatus }) {
  const why = noCidReason(m, '/');
  const [link, setLink] = useState<LinkResponse | undefined>(undefined);
  const [err, setErr] = useState<string | undefined>(undefined);
  const key = `${m.id}:${m.state}:${m.since}`;
  useEffect(() => {
    setLink(undefined);
    setErr(undefined);
    if (why) return;
    let cancelled = false;
    bridge()
      .entryLink({ id: m.id, path: '/' })
      .then((r) => !cancelled && setLink(r))
      .catch((e: unknown) => !cancelled && setErr(e instanceof Error ? e.message : String(e)));
    return () => {
      cancelled = true;
    };
    // The root's CID changes only when the mount does.
  }, [key]);
  const target = { id: m.id, path: '/' };
  return (
    <>
      <dt>CID</dt>
      <dd>
        {why ? (
          <span className="muted">{why}</span>
        ) : (
          <>
            <span className="mono cid" title={link?.cid}>
              {link ? shortCid(link.cid) : err ? err : 'looking it up…'}
            </span>
            <span className="copy-buttons">
              <button type="button" className="small" disabled={!link} onClick={() => void copyFor(target, 'cid')}>
                Copy CID
              </button>
              <button type="button" className="small" disabled={!link} onClick={() => void copyFor(target, 'link')}>
                Copy gateway link
              </button>
              <button type="button" className="small" disabled={!link} onClick={() => void copyFor(target, 'native')}>
                Copy ipfs:// link
              </button>
            </span>
          </>
        )}
      </dd>
    </>
  );
}

/** The selected mount: source, CID with Copy buttons, where, options, and Browse. */
export function DetailsPane({ id }: { id: string }) {
  const m = useBerth((s) => s.mountsById[id]);
  const canOpen = useBerth((s) => s.capabilities.openFolder);
  const home = useHome();
  if (!m) return null;
  const name = mountName(m);
  const src = sourceParts(m.spec.guest);
  const busy = m.state === 'mounting' || m.state === 'unmounting';
  return (
    <aside className="details" aria-labelledby="details-title">
      <div className="details-head">
        <h2 id="details-title">{name}</h2>
        <StateChip mount={m} />
        <button type="button" className="icon-button" aria-label="Close details" title="Close details (Esc)" onClick={closeDetails}>
          ×
        </button>
      </div>
      <dl className="facts">
        <dt>Source</dt>
        <dd>
          <span className="kind">{src.kind}</span> <span className="mono wrap">{src.full}</span>
        </dd>
        <CidLine m={m} />
        <dt>Where</dt>
        <dd>
          <span className="mono wrap">{whereText(m, home)}</span>
          {canOpen && m.spec.host.kind === 'fuse' && m.state === 'mounted' && (
            <button type="button" className="small" onClick={() => void openFolderOf({ id, path: '/' })}>
              Open folder
            </button>
          )}
          {m.spec.host.kind === 'nfs' && m.info?.linux && (
            <div className="mount-command">
              <span className="muted">Mount it with</span> <code className="mono wrap">{m.info.linux}</code>{' '}
              <button type="button" className="small" onClick={() => void copyText(m.info!.linux!)}>
                Copy mount command
              </button>
            </div>
          )}
        </dd>
        <dt>Options</dt>
        <dd>{optionsOf(m).join(' · ')}</dd>
      </dl>
      <div className="details-actions">
        <button type="button" disabled={busy} onClick={() => void toggleMount(id)}>
          {m.state === 'mounted' ? 'Unmount' : 'Mount'}
        </button>
        <button type="button" onClick={() => openDialog({ kind: 'edit', id })}>
          Edit…
        </button>
        <button type="button" onClick={() => openDialog({ kind: 'remove', id })}>
          Remove…
        </button>
      </div>
      <section className="browse-section" aria-labelledby="browse-title">
        <h3 id="browse-title">Browse</h3>
        {m.state === 'mounted' ? (
          <BrowseList id={id} name={name} version={m.since} />
        ) : (
          <p className="muted">Mount it to browse its files.</p>
        )}
      </section>
    </aside>
  );
}
