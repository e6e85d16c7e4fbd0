import type { NodeCallOpts } from '../IpfsNode.ts';
import type { KuboNode } from '../kubo.ts';
import { KuboMfs } from './kuboMfs.ts';

// The js-ipfs peer's MFS differences (PEERS.md), kept out of the Kubo path:
// - `flush: false` deadlocks its MFS lock until restart: KuboMfs never sends it;
// - `mv` onto an existing name fails: KuboMfs removes the target first on every node;
// - reads with offset > size error: the guest reads by CID with `cat`, clipped to the size;
// - kubo-rpc-client 7 has no chmod/touch: KuboMfs calls `files/chmod`/`files/touch` raw;
// - its `block/put` takes the codec as `format` (Kubo: `cid-codec`), handled here.

/** KuboMfs with the js-ipfs peer's block/put. */
export class JsIpfsMfs extends KuboMfs {
  constructor(
    kubo: KuboNode,
    private readonly isJsIpfs: (signal: AbortSignal) => Promise<boolean>,
  ) {
    super(kubo);
  }

  protected override async putPbBlock(block: Uint8Array, opts: NodeCallOpts): Promise<string> {
    if (!(await this.isJsIpfs(opts.signal))) return await super.putPbBlock(block, opts);
    const form = new FormData();
    form.append('file', new Blob([block]), 'block');
    try {
      const r = await this.kubo.rpc.json<{ Key?: string }>('block/put', { format: 'dag-pb', mhtype: 'sha2-256', version: 1 }, opts.signal, form);
      if (!r.Key) throw new Error('the node answered without a Key');
      return r.Key;
    } catch (err) {
      throw this.fail(err, 'block put', opts);
    }
  }
}
