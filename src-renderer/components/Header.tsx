import { nodeLine } from '../lib/format.ts';
import { openDialog } from '../store/actions.ts';
import { useBerth } from '../store/index.ts';

/** The header: the app's name, the IPFS node's status line, "+ Add mount" and Settings. */
export function Header() {
  const node = useBerth((s) => s.node);
  const line = nodeLine(node);
  return (
    <header className="app-header">
      <h1>
        <img src="./favicon.svg" alt="" width="22" height="22" />
        Berth
      </h1>
      <p className="node-line" title={line.detail ?? line.text}>
        <span className={`dot tone-${line.tone}`} aria-hidden="true" />
        <span className="node-text">{line.text}</span>
      </p>
      <div className="header-actions">
        <button type="button" className="primary" aria-keyshortcuts="Control+N Meta+N" onClick={() => openDialog({ kind: 'add' })}>
          <span aria-hidden="true">+ </span>Add mount
        </button>
        <button type="button" className="icon-button settings-button" aria-label="Settings" title="Settings (Ctrl+,)" aria-keyshortcuts="Control+, Meta+," onClick={() => openDialog({ kind: 'settings' })}>
          <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
            <path
              fill="currentColor"
              d="M19.4 13a7.6 7.6 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.4 7.4 0 0 0-1.7-1L15 3h-4l-.3 2.9a7.4 7.4 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.6 7.6 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7.4 7.4 0 0 0 1.7 1L11 21h4l.3-2.9a7.4 7.4 0 0 0 1.7-1l2.5 1 2-3.5zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z"
              transform="translate(-1 0)"
            />
          </svg>
        </button>
      </div>
    </header>
  );
}
