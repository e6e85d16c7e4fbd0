import { describe, expect, it } from 'vitest';
import type { MountSpec } from '../../../../src-shared/mountSpec.ts';
import { buildInput, draftFromSpec, fieldOfServiceMessage, firstError, newDraft, withName, withSource } from '../../../../src-renderer/lib/mountForm.ts';
import { CID } from '../fixtures.ts';

// The add/edit dialog's model: what a pasted source becomes, where it goes by default,
// and which field each of the shared schema's messages lands under.

const FOLDER = '/home/ana/Berth';

describe('the mount form', () => {
  it('a pasted gateway link becomes an IPFS mount named and placed after its short CID', () => {
    const d = newDraft(FOLDER, `https://dweb.link/ipfs/${CID}/docs`);
    expect(d.name).toBe('docs');
    expect(d.mountpoint).toBe(`${FOLDER}/docs`);
    const { input, errors } = buildInput(d);
    expect(errors).toEqual({});
    expect(input).toEqual({ name: 'docs', host: { kind: 'fuse', mountpoint: `${FOLDER}/docs`, readOnly: true }, guest: { kind: 'ipfs', root: `/ipfs/${CID}/docs` }, autoMount: true });
  });

  it('a bare CID is named by its short form; the folder name has no "…"', () => {
    const d = newDraft(FOLDER, CID);
    expect(d.name).toBe('bafy…qg7i');
    expect(d.mountpoint).toBe(`${FOLDER}/bafy-qg7i`);
  });

  it('the name and mount point follow the source until the person types their own', () => {
    let d = newDraft(FOLDER, 'nfs://nas.local/export/photos');
    expect(d.name).toBe('photos');
    d = withName(d, 'Holiday photos', FOLDER);
    expect(d.mountpoint).toBe(`${FOLDER}/Holiday photos`);
    d = withSource(d, 'nfs://nas.local/export/music', FOLDER);
    expect(d.name).toBe('Holiday photos');
    expect(buildInput(d).input?.guest).toEqual({ kind: 'nfs', server: '/dns/nas.local/tcp/2049', export: '/export/music' });
  });

  it('puts each message under its own field, in the schema\'s words, and the first error is the first field', () => {
    const d = { ...newDraft(FOLDER, '/srv/share'), mountpoint: 'relative', mountpointTouched: true, timeoutMs: 'soon', uid: '1.5' };
    const { input, errors } = buildInput(d);
    expect(input).toBeUndefined();
    expect(errors.mountpoint).toBe('expected an absolute path starting with "/"');
    expect(errors.timeoutMs).toMatch(/expected number/i);
    expect(errors.uid).toBe('expected a whole number');
    expect(firstError(errors)).toBe('mountpoint');
  });

  it('an unusable source says what is expected, and the other fields are still checked', () => {
    const d = { ...newDraft(FOLDER, 'hello there'), mountpoint: '', mountpointTouched: true };
    const { errors } = buildInput(d);
    expect(errors.source).toMatch(/^not something Berth can mount: "hello there": expected a CID/);
    expect(errors.mountpoint).toBe('expected an absolute path, got an empty string');
  });

  it('a local folder is read-only unless read-write is ticked; an NFS server listens where asked', () => {
    const d = { ...newDraft(FOLDER, '/srv/share'), readWrite: true };
    expect(buildInput(d).input).toMatchObject({ host: { readOnly: false }, guest: { kind: 'local', path: '/srv/share', readOnly: false } });
    const n = { ...newDraft(FOLDER, '/srv/share'), hostKind: 'nfs' as const, clients: '10.0.0.5, 10.0.0.6' };
    expect(buildInput(n).input?.host).toEqual({ kind: 'nfs', listen: '/ip4/127.0.0.1/tcp/0', readOnly: true, clients: ['10.0.0.5', '10.0.0.6'] });
  });

  it('extended attributes go with a local folder through FUSE only, and survive an edit', () => {
    const d = { ...newDraft(FOLDER, '/srv/share'), readWrite: true, xattrs: true };
    expect(buildInput(d).input?.guest).toEqual({ kind: 'local', path: '/srv/share', readOnly: false, xattrs: true });
    expect(buildInput({ ...d, hostKind: 'nfs' as const }).input?.guest).not.toHaveProperty('xattrs');
    expect(buildInput({ ...d, xattrs: false }).input?.guest).not.toHaveProperty('xattrs');
    const spec: MountSpec = {
      id: 'm_2',
      name: 'Share',
      host: { kind: 'fuse', mountpoint: '/mnt/share', readOnly: false, allowOther: false, options: [] },
      guest: { kind: 'local', path: '/srv/share', readOnly: false, xattrs: true },
      autoMount: true,
    };
    const e = draftFromSpec(spec);
    expect(e.xattrs).toBe(true);
    expect(buildInput(e).input?.guest).toEqual(spec.guest);
    // Unticked on edit: gone from the spec.
    expect(buildInput({ ...e, xattrs: false }).input?.guest).toEqual({ kind: 'local', path: '/srv/share', readOnly: false });
  });

  it('editing keeps the options the dialog does not show, and a guest the Source field cannot spell', () => {
    const spec: MountSpec = {
      id: 'm_1',
      name: 'Pins',
      host: { kind: 'fuse', mountpoint: '/mnt/pins', readOnly: true, allowOther: true, options: ['noatime'], uid: 1000 },
      guest: { kind: 'pinfs', node: '/ip4/127.0.0.1/tcp/5001', cacheExpiryMs: 500 },
      autoMount: false,
    };
    const d = draftFromSpec(spec);
    expect(d.fixedGuest).toEqual(spec.guest);
    expect(d.uid).toBe('1000');
    const { input } = buildInput({ ...d, name: 'My pins' });
    expect(input).toEqual({ name: 'My pins', host: { kind: 'fuse', mountpoint: '/mnt/pins', readOnly: true, allowOther: true, options: ['noatime'], uid: 1000 }, guest: spec.guest, autoMount: false });
  });

  it('an emptied advanced field is removed from the spec, not sent empty', () => {
    const spec: MountSpec = { id: 'm_2', host: { kind: 'fuse', mountpoint: '/mnt/x', readOnly: true, allowOther: false, options: [] }, guest: { kind: 'ipfs', root: `/ipfs/${CID}`, timeoutMs: 9000, node: '/ip4/10.0.0.9/tcp/5001' }, autoMount: true };
    const { input } = buildInput({ ...draftFromSpec(spec), timeoutMs: '', node: '' });
    expect(input?.guest).toEqual({ kind: 'ipfs', root: `/ipfs/${CID}` });
  });

  it('a service message naming a field goes under that field', () => {
    expect(fieldOfServiceMessage('invalid mount spec: host.mountpoint: expected an absolute path starting with "/"')).toEqual({ field: 'mountpoint', message: 'expected an absolute path starting with "/"' });
    expect(fieldOfServiceMessage('the mount point /x is already used by mount m_1')).toBeUndefined();
  });
});
