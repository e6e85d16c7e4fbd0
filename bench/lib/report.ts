import type { Sample } from './measure.ts';

/** One compared figure: Berth's path against a named peer, same run. */
export interface Row {
  what: string;
  berth: string;
  peer: string;
  berthMs: Sample;
  peerMs: Sample;
  /** Peer time / Berth time: above 1 means Berth is faster. */
  ratio: number;
  goal?: string;
  extra?: string;
  /** Unit of berthMs/peerMs when the figure is not a time, e.g. "MiB" for resident memory. */
  unit?: string;
}

/** Markdown for a section of rows. */
export function table(title: string, rows: Row[], notes: string[]): string {
  const fmt = (s: Sample, unit = 'ms'): string => `${s.median.toFixed(1)} ${unit} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
  const lines = [
    `## ${title}`,
    '',
    '| what | Berth path | median (min–max) | peer | median (min–max) | vs peer | goal | notes |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.what} | ${r.berth} | ${fmt(r.berthMs, r.unit)} | ${r.peer} | ${fmt(r.peerMs, r.unit)} | ${r.ratio.toFixed(2)}× | ${r.goal ?? ''} | ${r.extra ?? ''} |`,
    ),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}

/** Splits a results file into its head and its "## " sections, by title. */
function splitSections(text: string): { head: string; sections: { title: string; text: string }[] } {
  const parts = text.split(/^(?=## )/m);
  const head = parts[0]?.startsWith('## ') ? '' : (parts.shift() ?? '');
  return { head, sections: parts.map((p) => ({ title: p.slice(3, p.indexOf('\n')).trim(), text: p })) };
}

/**
 * The old results with the sections of a partial run put in place (same title) or added
 * at the end; each new section says which run wrote it, since the file's head names the
 * full run.
 */
export function mergeSections(old: string, fresh: string, by: string): string {
  const before = splitSections(old);
  const now = splitSections(fresh);
  if (before.head === '' && before.sections.length === 0) return fresh;
  const out = [...before.sections];
  for (const sec of now.sections) {
    const lines = sec.text.split('\n');
    const stamped = [lines[0], '', `Written by ${by}.`, ...lines.slice(1)].join('\n');
    const i = out.findIndex((o) => o.title === sec.title);
    if (i >= 0) out[i] = { title: sec.title, text: stamped };
    else out.push({ title: sec.title, text: stamped });
  }
  return before.head + out.map((o) => (o.text.endsWith('\n') ? o.text : `${o.text}\n`)).join('');
}
