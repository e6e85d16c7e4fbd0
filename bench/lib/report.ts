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

