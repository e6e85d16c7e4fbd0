import { useEffect } from 'react';
import { sourceFromDrop, DROP_ACCEPTS } from '../lib/dropped.ts';
import { openDialog, setDragging, showToast } from '../store/actions.ts';
import { useBerth } from '../store/index.ts';

/** True for drags that may carry something to mount (text, links, files). */
function carriesData(dt: DataTransfer | null): boolean {
  if (!dt) return false;
  const types = [...dt.types];
  return types.includes('text/plain') || types.includes('text/uri-list') || types.includes('Files');
}

/**
 * Drag to mount: while something is dragged over the window a full-window zone says
 * "Drop to mount"; a drop opens the add dialog prefilled, or says why it cannot. While a
 * dialog is open, drops go to its fields as usual.
 */
export function DropOverlay() {
  const dragging = useBerth((s) => s.dragging);

  useEffect(() => {
    // dragenter/dragleave fire for every child crossed; count them to know when it left.
    let depth = 0;
    const busy = () => useBerth.getState().dialog !== undefined;
    const enter = (e: DragEvent) => {
      if (busy() || !carriesData(e.dataTransfer)) return;
      e.preventDefault();
      depth++;
      setDragging(true);
    };
    const over = (e: DragEvent) => {
      if (busy() || !carriesData(e.dataTransfer)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      depth = 0;
      setDragging(false);
      if (busy() || !e.dataTransfer) return;
      e.preventDefault();
      const dt = e.dataTransfer;
      const r = sourceFromDrop({ uriList: dt.getData('text/uri-list'), text: dt.getData('text/plain'), files: [...dt.files].map((f) => f.name) });
      if (r.ok) openDialog({ kind: 'add', source: r.source });
      else showToast({ tone: 'error', title: r.what, text: DROP_ACCEPTS });
    };
    const end = () => {
      depth = 0;
      setDragging(false);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    window.addEventListener('dragend', end);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
      window.removeEventListener('dragend', end);
    };
  }, []);

  if (!dragging) return null;
  return (
    <div className="drop-overlay" aria-hidden="true">
      <div className="drop-zone">
        <p className="drop-title">Drop to mount</p>
        <p>a CID, an ipfs:// or gateway link, or text holding one</p>
      </div>
    </div>
  );
}
