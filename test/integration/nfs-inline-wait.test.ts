import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalGuest } from '../../src-main/guests/local.ts';
import { NfsProc } from '../../src-main/nfs/nfs3/constants.ts';
import { canWaitInline } from '../../src-main/nfs/rpc/inlineWait.ts';
import { NfsServer } from '../../src-main/nfs/server/NfsServer.ts';
import type { Vfs } from '../../src-main/vfs/types.ts';
import { wrapGuest } from '../../src-main/vfs/wrapGuest.ts';
import { callBody, RawRpc } from '../helpers/rawRpc.ts';

// A connection that answered its calls at once waits for its next call on the spot, in
// poll(2), instead of going back to the event loop (src-main/nfs/rpc/inlineWait.ts). A client
// in another process that calls back to back would then keep the serving thread forever: here
// the rest of the process (its timers, another client) must still get its turn while one does.

const PROG = 100003;

/**
 * A client in a process of its own: sends the call record given in hex (its xid at bytes
 * 4-8, rewritten each time) and waits for its reply, back to back, for `ms`; prints the count
 * of calls and of replies that were not NFS3_OK for their own xid.
 */
const CALLER = `
const net = require('node:net');
const [port, hex, ms] = process.argv.slice(1);
const call = Buffer.from(hex, 'hex');
const s = net.connect(Number(port), '127.0.0.1');
s.setNoDelay(true);
let xid = 1000, calls = 0, bad = 0, have = Buffer.alloc(0);
const end = Date.now() + Number(ms);
const next = () => { call.writeUInt32BE(++xid, 4); s.write(call); };
s.on('connect', next);
s.on('data', (chunk) => {
  have = Buffer.concat([have, chunk]);
  while (have.length >= 4) {
    const len = have.readUInt32BE(0) & 0x7fffffff;
    if (have.length < 4 + len) return;
    const r = have.subarray(0, 4 + len);
    have = have.subarray(4 + len);
    calls++;
    // mark, xid, REPLY, MSG_ACCEPTED, verifier (AUTH_NONE, 0), SUCCESS, then nfsstat3
    if (r.readUInt32BE(4) !== xid || r.readUInt32BE(24) !== 0 || r.readUInt32BE(28) !== 0) bad++;
    if (Date.now() < end) next();
    else { console.log(JSON.stringify({ calls, bad })); s.end(); }
  }
});
s.on('error', (e) => { console.error(e.message); process.exit(1); });`;

describe('NFS host: waiting for the next call on the spot', () => {
  let dir: string;
  let local: Vfs;
  let server: NfsServer;
  let port: number;
  let raw: RawRpc;
  let root: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-nfs-inline-'));
    writeFileSync(join(dir, 'a.txt'), 'a');
    local = await openLocalGuest({ kind: 'local', path: dir, readOnly: false });
    server = new NfsServer(wrapGuest(local), { readOnly: false, auth: { rootSquash: false }, onError: () => {} });
    port = (await server.listen(0)).port;
    raw = new RawRpc(port);
    await raw.ready();
    raw.send(callBody(1, 100005, 3, 1, (w) => w.string('/')));
    const m = await raw.accepted(1);
    expect(m.stat).toBe(0);
    expect(m.r.uint32()).toBe(0);
    root = Buffer.from(m.r.opaque(64));
  });

  afterAll(async () => {
    raw?.close();
    await server?.close();
    await local?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is on here (Linux, the main thread of plain Node), so the suite runs through it', () => {
    if (process.platform !== 'linux' || process.env.BERTH_NFS_INLINE === '0') return;
    expect(canWaitInline()).toBe(true);
  });

  it('gives timers and other clients their turn while a client in another process calls back to back', async () => {
    const body = callBody(1, PROG, 3, NfsProc.GETATTR, (w) => w.opaque(root));
    const record = Buffer.alloc(4 + body.length);
    record.writeUInt32BE((0x8000_0000 | body.length) >>> 0, 0);
    body.copy(record, 4);
    const child = spawn(process.execPath, ['-e', CALLER, String(port), record.toString('hex'), '1500'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    // Meanwhile in this process: a timer every 2 ms, and a client of its own calling in turn.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 2);
    let mine = 0;
    let stop = false;
    const own = (async () => {
      for (let xid = 10; !stop; xid++) {
        raw.send(callBody(xid, PROG, 3, NfsProc.GETATTR, (w) => w.opaque(root)));
        const { stat, r } = await raw.accepted(xid);
        expect(stat).toBe(0);
        expect(r.uint32()).toBe(0);
        mine++;
      }
    })();
    const code = await exited;
    stop = true;
    clearInterval(timer);
    await own;

    expect(err).toBe('');
    expect(code).toBe(0);
    const theirs = JSON.parse(out) as { calls: number; bad: number };
    // Every reply was the right one, and the other process was served all along.
    expect(theirs.bad).toBe(0);
    expect(theirs.calls).toBeGreaterThan(100);
    // A wait that never gave the loop its turn would leave both at 0 for the whole 1.5 s.
    expect(ticks).toBeGreaterThan(20);
    // And one that did not end when the loop has work (the other client's call is there)
    // would answer this process's client once per stay: ~1/60 of the other's calls here,
    // against ~1/2 when it does (measured).
    expect(mine).toBeGreaterThan(theirs.calls / 10);
  });
});
