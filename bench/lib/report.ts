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
}

/** Markdown for a section of rows. */
export function table(title: string, rows: Row[], notes: string[]): string {
  const fmt = (s: Sample): string => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
  const lines = [
    `## ${title}`,
    '',
    '| what | Berth path | ms median (min–max) | peer | ms median (min–max) | speed vs peer | goal | notes |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.what} | ${r.berth} | ${fmt(r.berthMs)} | ${r.peer} | ${fmt(r.peerMs)} | ${r.ratio.toFixed(2)}× | ${r.goal ?? ''} | ${r.extra ?? ''} |`,
    ),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}
