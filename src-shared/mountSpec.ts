import { z } from 'zod';
import { ContentPathError, parseContentPath } from './contentPath.ts';
import { parseMultiaddr } from './multiaddr.ts';

// The one schema a mount spec is validated by wherever it crosses a boundary:
// IPC, the control API, the CLI and mounts.json (DESIGN.md "Data model").

/** Absolute host path without NUL bytes. */
const absPath = z
  .string()
  .min(1, 'expected an absolute path, got an empty string')
  .max(4096, 'path is longer than 4096 characters')
  .refine((p) => p.startsWith('/'), { message: 'expected an absolute path starting with "/"' })
  .refine((p) => !p.includes('\0'), { message: 'path contains a NUL byte' });

/** A multiaddr in text form; parsed for real in src-shared/multiaddr.ts. */
const multiaddrText = z
  .string()
  .min(2, 'expected a multiaddr like /ip4/127.0.0.1/tcp/5001')
  .max(1024)
  .refine((s) => s.startsWith('/'), { message: 'expected a multiaddr starting with "/", like /ip4/127.0.0.1/tcp/5001' })
  .superRefine((s, ctx) => {
    if (!s.startsWith('/')) return; // already reported above
    try {
      parseMultiaddr(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    }
  });

const id32 = z.number().int('expected a whole number').min(0).max(0xffff_ffff);

/** A mount id: letters, digits, "_" and "-" only, so it is safe in paths and URLs. */
export const MountIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a mount id of 1-64 letters, digits, "_" or "-"');

/** Options shared by every guest: how long a call may take and how long metadata is cached. */
const guestCommon = {
  /** Milliseconds one guest call may take before it fails with Timeout. */
  timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  /** Milliseconds attributes and listings of mutable content stay cached. */
  cacheExpiryMs: z.number().int().min(0).max(86_400_000).optional(),
  /** Owner and group shown for every entry (default: the user running Berth). */
  uid: id32.optional(),
  gid: id32.optional(),
};

/** `node`: a multiaddr of a Kubo RPC API, or "embedded"; absent means the app setting. */
const nodeRef = z.union([z.literal('embedded'), multiaddrText]).optional();

/**
 * A content path the guest will present, checked with the one parser so a bad one is a
 * usage error at every boundary instead of a mount that fails (and retries) later.
 */
function contentPathIn(namespace: 'ipfs' | 'ipns', other: string) {
  return z
    .string()
    .min(1, 'expected a content path, got an empty string')
    .max(4096)
    .superRefine((text, ctx) => {
      const full = namespace === 'ipns' && !text.startsWith('/') && !text.includes('://') ? `/ipns/${text}` : text;
      try {
        if (parseContentPath(full).namespace !== namespace) {
          ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text.slice(0, 100))} is an /${other}/ path; expected /${namespace}/…` });
        }
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof ContentPathError ? err.message : String(err) });
      }
    });
}

export const IpfsGuestSchema = z.object({
  kind: z.literal('ipfs'),
  /** Without a root the top level is the /ipfs namespace (`<cid>/path`). */
  root: contentPathIn('ipfs', 'ipns').optional(),
  node: nodeRef,
  ...guestCommon,
});
export const IpnsGuestSchema = z.object({
  kind: z.literal('ipns'),
  name: contentPathIn('ipns', 'ipfs').optional(),
  node: nodeRef,
  ...guestCommon,
});
export const PinfsGuestSchema = z.object({ kind: z.literal('pinfs'), node: nodeRef, ...guestCommon });
export const KeyfsGuestSchema = z.object({ kind: z.literal('keyfs'), node: nodeRef, ...guestCommon });
export const MfsGuestSchema = z.object({
  kind: z.literal('mfs'),
  path: z.string().startsWith('/', 'expected an MFS path starting with "/"').max(4096).default('/'),
  node: nodeRef,
  ...guestCommon,
});
export const NfsGuestSchema = z.object({
  kind: z.literal('nfs'),
  server: multiaddrText,
  export: z.string().startsWith('/', 'expected an export path starting with "/"').max(1024).default('/'),
  linkSeparator: z.string().max(8).optional(),
  /** MOUNT v3's TCP port when it differs from the NFS port; without it the portmapper (port 111) is asked. */
  mountPort: z.number().int('expected a whole port number').min(1, 'expected a port from 1 to 65535').max(65535, 'expected a port from 1 to 65535').optional(),
  ...guestCommon,
});
export const LocalGuestSchema = z.object({
  kind: z.literal('local'),
  path: absPath,
  readOnly: z.boolean().default(false),
  /**
   * Keep the folder's user.* extended attributes (Linux; FUSE only, NFSv3 has none). Off by
   * default: with them the kernel asks the mount before every write whether the file
   * carries capabilities, a round trip per write, passthrough's too (docs/architecture.md).
   */
  xattrs: z.boolean().optional(),
  ...guestCommon,
});

/** What Berth reads from. */
export const GuestSpecSchema = z.discriminatedUnion('kind', [
  IpfsGuestSchema,
  IpnsGuestSchema,
  PinfsGuestSchema,
  KeyfsGuestSchema,
  MfsGuestSchema,
  NfsGuestSchema,
  LocalGuestSchema,
]);

export const FuseHostSchema = z.object({
  kind: z.literal('fuse'),
  mountpoint: absPath,
  readOnly: z.boolean().default(true),
  allowOther: z.boolean().default(false),
  uid: id32.optional(),
  gid: id32.optional(),
  /** Extra `-o` options passed to FUSE, e.g. "noatime". */
  options: z.array(z.string().regex(/^[A-Za-z0-9_=.,-]+$/, 'expected a FUSE option like "noatime"')).max(32).default([]),
});
export const NfsHostSchema = z.object({
  kind: z.literal('nfs'),
  /** Where the NFSv3 server listens; port 0 picks a free port. */
  listen: multiaddrText.default('/ip4/127.0.0.1/tcp/0'),
  readOnly: z.boolean().default(true),
  /** Client addresses allowed besides loopback; required to listen on a non-loopback address. */
  clients: z.array(z.string().min(1).max(64)).max(64).default([]),
  /** Map calls as root (uid 0) to nobody (65534), as NFS servers do by default. */
  rootSquash: z.boolean().default(true),
  /** Accept calls only from source ports below 1024 (which only root can bind on the client). */
  reservedPort: z.boolean().default(false),
  /** Uids a server not running as root serves besides its own (it acts as itself for them). */
  allowUids: z.array(id32).max(64).default([]),
});

/** How a guest is presented to the OS. */
export const HostSpecSchema = z.discriminatedUnion('kind', [FuseHostSchema, NfsHostSchema]);

/** A mount as the user writes it (no id yet). */
export const MountInputSchema = z.object({
  name: z.string().max(200).optional(),
  host: HostSpecSchema,
  guest: GuestSpecSchema,
  autoMount: z.boolean().default(true),
});

/** A mount as the table stores it. */
export const MountSpecSchema = MountInputSchema.extend({ id: MountIdSchema });

export type GuestSpec = z.infer<typeof GuestSpecSchema>;
export type GuestKind = GuestSpec['kind'];
export type HostSpec = z.infer<typeof HostSpecSchema>;
export type HostKind = HostSpec['kind'];
export type FuseHostSpec = z.infer<typeof FuseHostSchema>;
export type NfsHostSpec = z.infer<typeof NfsHostSchema>;
export type MountInput = z.input<typeof MountInputSchema>;
export type MountSpec = z.infer<typeof MountSpecSchema>;

/** Turns a zod failure into one line per problem: "host.mountpoint: expected an absolute path ...". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(spec)'}: ${i.message}`)
    .join('; ');
}

/** Where a mount is: its FUSE mount point, or its NFS listen address. */
export function mountTarget(host: HostSpec): string {
  return host.kind === 'fuse' ? host.mountpoint : host.listen;
}

/** Short text of a guest: "ipfs /ipfs/bafy…", "local /srv/x", "nfs /ip4/…:/export". */
export function describeGuest(g: GuestSpec): string {
  switch (g.kind) {
    case 'ipfs':
      return `ipfs${g.root ? ` ${g.root}` : ''}`;
    case 'ipns':
      return `ipns${g.name ? ` ${g.name}` : ''}`;
    case 'pinfs':
    case 'keyfs':
      return g.kind;
    case 'mfs':
      return `mfs ${g.path}`;
    case 'nfs':
      return `nfs ${g.server}:${g.export}`;
    case 'local':
      return `local ${g.path}`;
    default: {
      const never: never = g;
      return String((never as { kind: unknown }).kind);
    }
  }
}
