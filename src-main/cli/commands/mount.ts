import type { Command } from '../command.ts';
import { parseMountArgs } from '../mountFlags.ts';

/** `berth mount`: presents a guest through a host, held by the daemon or (--foreground) by this process. */
export const mountCommand: Command = {
  name: 'mount',
  summary: 'mount a guest (ipfs, pinfs, ipns, keyfs, mfs, nfs, local) with FUSE or as an NFS server',
  help: `usage: berth mount <fuse|nfs> <guest> [flags] <mountpoint | listen multiaddr>

Hands the mount to the Berth daemon (starting one in the background when none runs,
log in $XDG_STATE_HOME/berth/daemon.log) and returns once it is mounted, or prints the
error and exits 1. With --foreground it serves in this process until Ctrl-C (or
SIGTERM), then unmounts cleanly.

guests:
  ipfs    IPFS content: the /ipfs namespace (<cid>/path), or one tree with --root
  pinfs   the node's recursive pins as folders
  ipns    IPNS names (<name>/path), or one name with --name / --root
  keyfs   the node's keys as folders, resolved through IPNS
  mfs     the node's MFS (--path, default /)
  nfs     an NFSv3 share (--nfs-server, --nfs-export)
  local   a folder on this machine (--path)

flags:
  --ipfs-api <multiaddr>    IPFS RPC API of the node (default: $IPFS_PATH/api, else /ip4/127.0.0.1/tcp/5001)
  --root <content path>     ipfs/ipns: a CID, /ipfs/<cid>/path, ipfs://..., a gateway URL
  --name <ipns name>        ipns: the name to present
  --path <path>             local: the folder (absolute); mfs: the MFS path
  --xattrs                  local, fuse: keep user.* extended attributes (each write then
                            asks Berth first whether the file carries capabilities)
  --nfs-server <multiaddr>  nfs: the server, e.g. /ip4/127.0.0.1/tcp/2049
  --nfs-export <path>       nfs: the export (default /)
  --nfs-uid/--nfs-gid <id>  nfs: AUTH_SYS credentials sent to the server (default: yours)
  --nfs-link-separator <s>  nfs: separator the server uses in symlink targets (default /)
  --nfs-mount-port <port>   nfs: the server's MOUNT port, when not its NFS port (default: ask the portmapper)
  --read-only | --rw        refuse or allow changes (FUSE mounts are read-only unless --rw)
  --timeout <duration>      a guest call fails after this long (default 1m), e.g. 30s
  --cache-expiry <duration> attributes/listings of mutable content stay cached this long (default 1s)
  --uid <n>, --gid <n>      owner shown for every entry
  --allow-other             let other users see the mount (fuse)
  -o, --option <opt>        extra FUSE option, repeatable (e.g. -o noatime)
  --clients <address>       nfs host: allowed client, repeatable (needed off loopback)
  --label <text>            a name for the mount
  -f, --foreground          serve in this process until Ctrl-C, without the daemon
  -h, --help                this text

examples:
  berth mount fuse ipfs /mnt/ipfs
  berth mount fuse ipfs --root /ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi /mnt/site
  berth mount fuse local --path /srv/share --rw /mnt/share
  berth mount nfs pinfs /ip4/127.0.0.1/tcp/0

exit codes: 0 mounted (--foreground: unmounted cleanly), 1 failure, 2 usage error`,
  async run(args) {
    const { input, foreground } = parseMountArgs(args);
    // Without --foreground the daemon holds the mount (started in the background if needed).
    // Loaded on use: every other command starts faster without hosts and guests.
    if (foreground) return (await import('../foreground.ts')).runForeground(input);
    return (await import('../mountViaDaemon.ts')).mountViaDaemon(input);
  },
};
