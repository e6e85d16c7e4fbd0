import { useState } from 'react';
import { mountName, whereText } from '../lib/format.ts';
import { closeDialog } from '../store/actions.ts';
import { removeMount } from '../store/commands.ts';
import { useBerth } from '../store/index.ts';
import { Modal } from './Modal.tsx';

/** "Remove <name>?": asks first, and says when removing also unmounts. */
export function RemoveDialog({ id }: { id: string }) {
  const m = useBerth((s) => s.mountsById[id]);
  const [busy, setBusy] = useState(false);
  if (!m) return null;
  const name = mountName(m);
  const up = m.state === 'mounted' || m.state === 'mounting' || m.state === 'unmounting';
  return (
    <Modal labelledBy="remove-title" onClose={closeDialog} className="narrow">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (busy) return;
          setBusy(true);
          void removeMount(id).finally(() => setBusy(false));
        }}
      >
        <h2 id="remove-title">Remove {name}?</h2>
        <p>
          Berth forgets this mount and will not mount it again at start.
          {up ? ` It is mounted at ${whereText(m)}, so removing it also unmounts it.` : ''} The content itself is not touched.
        </p>
        <div className="dialog-buttons">
          <button type="button" onClick={closeDialog}>
            Cancel
          </button>
          <button type="submit" className="danger" aria-busy={busy} autoFocus>
            {busy ? 'Removing…' : up ? 'Unmount and remove' : 'Remove'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
