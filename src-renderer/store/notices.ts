import type { Notice } from '../../src-shared/api.ts';

// The notices slice: things the service says the user must see (a corrupt mounts.json
// moved aside, a mount that failed at start), shown until dismissed.

/** The notices slice. */
export interface NoticesSlice {
  notices: Notice[];
}

/** No notices. */
export function initialNotices(): NoticesSlice {
  return { notices: [] };
}

/** A notice added (a repeated id replaces the old one). */
export function putNotice(n: Notice): (s: NoticesSlice) => Partial<NoticesSlice> {
  return (s) => ({ notices: [...s.notices.filter((x) => x.id !== n.id), n] });
}

/** A notice dismissed. */
export function dropNotice(id: string): (s: NoticesSlice) => Partial<NoticesSlice> {
  return (s) => ({ notices: s.notices.filter((x) => x.id !== id) });
}
