import type { GuestSpec, MountInput, MountSpec } from '../../src-shared/mountSpec.ts';
import { MountInputSchema } from '../../src-shared/mountSpec.ts';
import { defaultMountpoint, understandSource, type SourceGuess } from '../../src-shared/sourceInput.ts';

// The add/edit dialog's model, apart from React: the fields as typed (a draft), what the
// Source field understood, and the MountInput built from them, checked by the shared
// schema so the dialog shows the service's own words under the field they are about.

/** Every field of the dialog that can carry a message ("form" is the dialog as a whole). */
export type FieldName =
  | 'source'
  | 'name'
  | 'mountpoint'
  | 'listen'
  | 'autoMount'
  | 'node'
  | 'timeoutMs'
  | 'cacheExpiryMs'
  | 'uid'
  | 'gid'
  | 'mountPort'
  | 'clients'
  | 'form';

/** Fields inside the collapsed Advanced section (a message there opens it). */
export const ADVANCED_FIELDS: ReadonlySet<FieldName> = new Set(['node', 'timeoutMs', 'cacheExpiryMs', 'uid', 'gid', 'mountPort', 'clients']);

/** The order fields appear in, for "focus the first error". */
export const FIELD_ORDER: readonly FieldName[] = ['source', 'name', 'mountpoint', 'listen', 'autoMount', 'node', 'timeoutMs', 'cacheExpiryMs', 'uid', 'gid', 'mountPort', 'clients', 'form'];

/** A message per field. */
export type FieldErrors = Partial<Record<FieldName, string>>;

/** The dialog's fields as typed. */
export interface MountDraft {
  source: string;
  /** A guest the Source field cannot spell (pinned content, keys, MFS, all of /ipfs): shown, kept as is. */
  fixedGuest?: GuestSpec;
  name: string;
  /** True once the person typed a name: then the source no longer renames it. */
  nameTouched: boolean;
  mountpoint: string;
  mountpointTouched: boolean;
  hostKind: 'fuse' | 'nfs';
  listen: string;
  autoMount: boolean;
  node: string;
  timeoutMs: string;
  cacheExpiryMs: string;
  uid: string;
  gid: string;
  mountPort: string;
  clients: string;
  readWrite: boolean;
  /** A local folder through FUSE keeps user.* extended attributes (LocalGuestSchema.xattrs). */
  xattrs: boolean;
  /** The spec being edited: options the dialog does not show are kept from it. */
  base?: MountSpec;
}

/** What the Source field understood, or the parser's message. */
export type Understood = { ok: true; guess: SourceGuess } | { ok: false; message: string; empty: boolean };

/** Runs the one Source parser. */
export function understand(text: string): Understood {
  try {
    return { ok: true, guess: understandSource(text) };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err), empty: text.trim() === '' };
  }
}

/** The NFS server address new NFS exports listen on (port chosen by the system). */
export const DEFAULT_LISTEN = '/ip4/127.0.0.1/tcp/0';

/** A new mount's draft, from a pasted or dropped source (or empty). */
export function newDraft(folder: string, source = ''): MountDraft {
  const d: MountDraft = {
    source: '',
    name: '',
    nameTouched: false,
    mountpoint: '',
    mountpointTouched: false,
    hostKind: 'fuse',
    listen: DEFAULT_LISTEN,
    autoMount: true,
    node: '',
    timeoutMs: '',
    cacheExpiryMs: '',
    uid: '',
    gid: '',
    mountPort: '',
    clients: '',
    readWrite: false,
    xattrs: false,
  };
  return withSource(d, source, folder);
}

/** The Source text of a guest, or undefined for guests the field cannot spell. */
export function sourceTextOf(g: GuestSpec): string | undefined {
  switch (g.kind) {
    case 'ipfs':
      return g.root;
    case 'ipns':
      return g.name ? (g.name.startsWith('/ipns/') ? g.name : `/ipns/${g.name}`) : undefined;
    case 'nfs':
      return `${g.server}:${g.export}`;
    case 'local':
      return g.path;
    case 'pinfs':
    case 'keyfs':
    case 'mfs':
      return undefined;
    default: {
      const never: never = g;
      return never;
    }
  }
}

const str = (n: number | undefined) => (n === undefined ? '' : String(n));

/** The draft of an existing mount (the edit dialog). */
export function draftFromSpec(spec: MountSpec): MountDraft {
  const g = spec.guest;
  const h = spec.host;
  const text = sourceTextOf(g);
  return {
    source: text ?? '',
    ...(text === undefined ? { fixedGuest: g } : {}),
    name: spec.name ?? '',
    nameTouched: true,
    mountpoint: h.kind === 'fuse' ? h.mountpoint : '',
    mountpointTouched: true,
    hostKind: h.kind,
    listen: h.kind === 'nfs' ? h.listen : DEFAULT_LISTEN,
    autoMount: spec.autoMount,
    node: 'node' in g && g.node ? g.node : '',
    timeoutMs: str(g.timeoutMs),
    cacheExpiryMs: str(g.cacheExpiryMs),
    uid: h.kind === 'fuse' ? str(h.uid) : '',
    gid: h.kind === 'fuse' ? str(h.gid) : '',
    mountPort: g.kind === 'nfs' ? str(g.mountPort) : '',
    clients: h.kind === 'nfs' ? h.clients.join(', ') : '',
    readWrite: g.kind === 'local' ? !g.readOnly && !h.readOnly : false,
    xattrs: g.kind === 'local' && g.xattrs === true,
    base: spec,
  };
}

/** The draft after the Source field changed: an untouched name and mount point follow it. */
export function withSource(d: MountDraft, source: string, folder: string): MountDraft {
  const next = { ...d, source };
  const u = understand(source);
  if (!next.nameTouched) next.name = u.ok ? u.guess.suggestedName : '';
  if (!next.mountpointTouched) next.mountpoint = (next.name || u.ok) ? defaultMountpoint(folder, next.name || (u.ok ? u.guess.suggestedName : '')) : '';
  return next;
}

/** The draft after the Name field changed: an untouched mount point follows it. */
export function withName(d: MountDraft, name: string, folder: string): MountDraft {
  const next = { ...d, name, nameTouched: true };
  if (!next.mountpointTouched) {
    const u = understand(d.source);
    const base = name.trim() || (u.ok ? u.guess.suggestedName : '');
    next.mountpoint = base ? defaultMountpoint(folder, base) : '';
  }
  return next;
}

/** A number field: empty is absent; anything else goes to the schema as typed (NaN included), so its words judge it. */
function num(text: string): number | undefined {
  const t = text.trim();
  return t === '' ? undefined : Number(t);
}

/** Keys of a guest the dialog owns; the rest of an edited guest is kept. */
const GUEST_KEYS = ['root', 'name', 'server', 'export', 'path', 'readOnly', 'xattrs', 'node', 'timeoutMs', 'cacheExpiryMs', 'mountPort'] as const;

function guestOf(d: MountDraft, guess: SourceGuess | undefined): GuestSpec | undefined {
  let g: Record<string, unknown>;
  if (d.fixedGuest) g = { ...d.fixedGuest };
  else if (guess) {
    const kept: Record<string, unknown> = d.base && d.base.guest.kind === guess.kind ? { ...d.base.guest } : {};
    for (const k of GUEST_KEYS) delete kept[k];
    switch (guess.kind) {
      case 'ipfs':
        g = { ...kept, kind: 'ipfs', root: guess.root };
        break;
      case 'ipns':
        g = { ...kept, kind: 'ipns', name: guess.name };
        break;
      case 'nfs':
        g = { ...kept, kind: 'nfs', server: guess.server, export: guess.export };
        if (num(d.mountPort) !== undefined) g.mountPort = num(d.mountPort);
        break;
      case 'local':
        g = { ...kept, kind: 'local', path: guess.path, readOnly: !d.readWrite };
        // Through FUSE only: NFSv3 has no extended attributes.
        if (d.xattrs && d.hostKind === 'fuse') g.xattrs = true;
        break;
    }
  } else return undefined;
  const kind = g.kind as GuestSpec['kind'];
  if (kind === 'ipfs' || kind === 'ipns' || kind === 'pinfs' || kind === 'keyfs' || kind === 'mfs') {
    if (d.node.trim()) g.node = d.node.trim();
    else delete g.node;
  }
  for (const k of ['timeoutMs', 'cacheExpiryMs'] as const) {
    const v = num(d[k]);
    if (v !== undefined) g[k] = v;
    else delete g[k];
  }
  return g as GuestSpec;
}

function hostOf(d: MountDraft, guest: GuestSpec | undefined): MountInput['host'] {
  const writable = guest?.kind === 'local' ? d.readWrite : d.base ? d.base.host.readOnly === false : false;
  if (d.hostKind === 'nfs') {
    const base = d.base?.host.kind === 'nfs' ? d.base.host : undefined;
    return {
      ...(base ?? {}),
      kind: 'nfs',
      listen: d.listen.trim(),
      readOnly: !writable,
      clients: d.clients.split(/[\s,]+/).filter(Boolean),
    };
  }
  const base = d.base?.host.kind === 'fuse' ? d.base.host : undefined;
  const h: Record<string, unknown> = { ...(base ?? {}), kind: 'fuse', mountpoint: d.mountpoint.trim(), readOnly: !writable };
  delete h.uid;
  delete h.gid;
  if (num(d.uid) !== undefined) h.uid = num(d.uid);
  if (num(d.gid) !== undefined) h.gid = num(d.gid);
  return h as MountInput['host'];
}

/** The field a schema issue is about, from its path. */
function fieldOf(path: readonly PropertyKey[]): FieldName {
  const [top, key] = path;
  if (top === 'name') return 'name';
  if (top === 'autoMount') return 'autoMount';
  if (top === 'host') {
    if (key === 'mountpoint') return 'mountpoint';
    if (key === 'listen') return 'listen';
    if (key === 'clients') return 'clients';
    if (key === 'uid' || key === 'gid') return key;
    return 'form';
  }
  if (top === 'guest') {
    if (key === 'node' || key === 'timeoutMs' || key === 'cacheExpiryMs' || key === 'mountPort') return key;
    return 'source';
  }
  return 'form';
}

/**
 * The MountInput the draft describes, or the messages that stop it: the Source parser's,
 * then the shared schema's (the first message per field), each under its own field.
 */
export function buildInput(d: MountDraft): { input?: MountInput; errors: FieldErrors } {
  const errors: FieldErrors = {};
  let guess: SourceGuess | undefined;
  if (!d.fixedGuest) {
    const u = understand(d.source);
    if (u.ok) guess = u.guess;
    else errors.source = u.message;
  }
  const guest = guestOf(d, guess);
  const name = d.name.trim();
  const candidate = {
    ...(name ? { name } : {}),
    host: hostOf(d, guest),
    // A placeholder keeps the other fields' messages coming while the source is wrong.
    guest: guest ?? { kind: 'local', path: '/' },
    autoMount: d.autoMount,
  };
  const parsed = MountInputSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const f = fieldOf(issue.path);
      if (!errors[f]) errors[f] = issue.message;
    }
  }
  if (Object.keys(errors).length > 0) return { errors };
  return { input: candidate as MountInput, errors };
}

/** The first field with a message, in the order they appear. */
export function firstError(errors: FieldErrors): FieldName | undefined {
  return FIELD_ORDER.find((f) => errors[f] !== undefined);
}

/** Splits a service error "host.mountpoint: expected …" into the field it names, when it names one. */
export function fieldOfServiceMessage(message: string): { field: FieldName; message: string } | undefined {
  const m = /^(?:invalid mount spec: )?((?:host|guest)\.[A-Za-z]+|name)(?:\.\d+)?: (.+)$/.exec(message);
  if (!m) return undefined;
  return { field: fieldOf(m[1]!.split('.')), message: m[2]! };
}
