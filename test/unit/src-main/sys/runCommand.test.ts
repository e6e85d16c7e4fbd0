import { describe, expect, it } from 'vitest';
import { runCommand } from '../../../../src-main/sys/runCommand.ts';

describe('runCommand', () => {
  it('hands a command each argument as its bytes: UTF-8, and a name that is not UTF-8 (sys/byteNames.ts) as exactly its own', async () => {
    const r = await runCommand('sh', ['-c', 'for a; do printf %s "$a" | od -An -tx1; done', 'sh', 'café', 'caf\udce9', "it's \"quoted\" $HOME\n"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim());
    expect(lines.slice(0, 2)).toEqual(['63 61 66 c3 a9', '63 61 66 e9']);
    expect(lines.slice(2).join(' ')).toBe(Buffer.from("it's \"quoted\" $HOME\n").toString('hex').replace(/(..)(?!$)/g, '$1 '));
  });
});
