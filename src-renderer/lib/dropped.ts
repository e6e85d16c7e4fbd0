import { findContentIn } from '../../src-shared/sourceInput.ts';
import { understand } from './mountForm.ts';

// What a drop on the window holds, in the Source field's terms: a whole link, path or
// CID as dropped, else the first CID or link inside dropped text (a sentence, a list of
// URLs). Nothing usable gets words saying what was dropped and what Berth accepts.

/** The data of a drop (DataTransfer's, or a test's). */
export interface DroppedData {
  uriList: string;
  text: string;
  /** Names of dropped files, if any. */
  files: string[];
}

/** What Berth accepts, for the message after an unusable drop. */
export const DROP_ACCEPTS = 'Berth accepts a CID, an /ipfs/… or /ipns/… path, an ipfs:// or gateway link (or text holding one), an NFS share or a folder path.';

/** Quotes at most 60 characters of dropped text. */
function quote(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return `“${t.length > 60 ? `${t.slice(0, 57)}…` : t}”`;
}

/** The Source text to prefill the add dialog with, or why nothing in the drop can be mounted. */
export function sourceFromDrop(d: DroppedData): { ok: true; source: string } | { ok: false; what: string } {
  const uris = d.uriList
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const candidate of [...uris, d.text.trim()]) {
    if (candidate !== '' && !candidate.includes('\n') && understand(candidate).ok) return { ok: true, source: candidate };
  }
  const found = findContentIn([...uris, d.text].join('\n'));
  if (found) return { ok: true, source: found.kind === 'ipfs' ? found.root : `/ipns/${found.name}` };
  if (d.files.length > 0) {
    const what = d.files.length === 1 ? `a file (${d.files[0]})` : `${d.files.length} files`;
    return { ok: false, what: `Dropped ${what}: the browser does not say where it is on disk, so type its folder in Add mount instead.` };
  }
  const text = d.text.trim() || uris.join(' ');
  return { ok: false, what: text ? `Dropped the text ${quote(text)}, which holds no CID or link.` : 'The drop held nothing Berth could read.' };
}
