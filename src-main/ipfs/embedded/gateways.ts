import { fallbackRouter } from '@helia/fallback-router';
import { trustlessGatewayBlockBroker } from '@helia/trustless-gateway-client';
import { defaultLogger } from 'birnam';
import type { CID } from 'multiformats/cid';
import { FsError } from '../../vfs/FsError.ts';
import { verifyBlock } from '../verifyBlock.ts';

// Blocks the embedded node does not have come from HTTP trustless gateways
// (https://specs.ipfs.tech/http-gateways/trustless-gateway/, `?format=raw`), through
// @helia/trustless-gateway-client's broker with a fixed gateway list as its only router
// (@helia/fallback-router: no delegated routing, so nothing waits on a router that will
// never answer). Every block is verified against its CID (verifyBlock.ts) before it is
// returned; a gateway whose block fails is skipped, and when none had a good one the
// error says which failed verification.

/** Public trustless gateways used when the settings name none (the ones @helia/http defaults to). */
export const DEFAULT_TRUSTLESS_GATEWAYS: readonly string[] = ['https://trustless-gateway.link', 'https://4everland.io'];

/** Fetches verified blocks from a list of gateways. */
export class GatewayFetcher {
  private readonly broker;

  constructor(readonly gateways: readonly string[]) {
    // http and loopback gateways are allowed: the list is the user's own choice (a local
    // Kubo gateway on 127.0.0.1:8080 is a good one)
    this.broker = trustlessGatewayBlockBroker({ allowInsecure: true, allowLocal: true })({
      routing: fallbackRouter({ gateways: [...gateways] }) as never,
      logger: defaultLogger(),
    });
  }

  /** One block, verified; FsError IO (or Timeout) saying why when no gateway had a good one. */
  async fetch(cid: CID, signal: AbortSignal | undefined): Promise<Uint8Array> {
    if (this.gateways.length === 0) throw new FsError('IO', `block ${cid} is not in the local store and no trustless gateway is configured (settings: gateways)`);
    const forged: string[] = [];
    const retrieve = this.broker.retrieve?.bind(this.broker);
    if (!retrieve) throw new FsError('IO', 'the trustless gateway broker cannot retrieve blocks');
    try {
      return await retrieve(cid, {
        ...(signal ? { signal } : {}),
        validateFn: async (bytes: Uint8Array) => {
          try {
            await verifyBlock(cid, bytes, 'a gateway');
          } catch (err) {
            forged.push((err as Error).message);
            throw err;
          }
        },
      });
    } catch (err) {
      if (signal?.aborted) {
        const why = signal.reason instanceof Error ? signal.reason.message : 'aborted';
        throw new FsError('Timeout', `block ${cid} from ${this.gateways.join(', ')}: ${why}`, { cause: err });
      }
      if (forged.length) throw new FsError('IO', `${forged[0]!} (gateways: ${this.gateways.join(', ')})`, { cause: err });
      const inner = err instanceof AggregateError ? err.errors.map((e: unknown) => (e as Error).message).join('; ') : (err as Error).message;
      throw new FsError('IO', `block ${cid} could not be fetched from the trustless gateways ${this.gateways.join(', ')}: ${inner}`, { cause: err });
    }
  }
}
