import { describe, expect, it } from 'vitest';
import { sourceFromDrop } from '../../../../src-renderer/lib/dropped.ts';
import { CID } from '../fixtures.ts';

// A drop on the window: a link, path or CID as dropped; else the first one in dropped
// text; else words saying what was dropped.

describe('what a drop holds', () => {
  it('takes a dropped link as it is (the dialog then says where it came from)', () => {
    expect(sourceFromDrop({ uriList: `# from a browser\nipfs://${CID}`, text: '', files: [] })).toEqual({ ok: true, source: `ipfs://${CID}` });
    expect(sourceFromDrop({ uriList: '', text: ` https://dweb.link/ipfs/${CID} `, files: [] })).toEqual({ ok: true, source: `https://dweb.link/ipfs/${CID}` });
  });

  it('finds a CID inside text', () => {
    expect(sourceFromDrop({ uriList: '', text: `the site is at ${CID}, have a look.`, files: [] })).toEqual({ ok: true, source: `/ipfs/${CID}` });
  });

  it('a folder from the file manager (file://) becomes a local folder', () => {
    expect(sourceFromDrop({ uriList: 'file:///home/ana/Music', text: '', files: ['Music'] })).toEqual({ ok: true, source: 'file:///home/ana/Music' });
  });

  it('says what was dropped when nothing can be mounted', () => {
    expect(sourceFromDrop({ uriList: '', text: 'see you at lunch', files: [] })).toEqual({ ok: false, what: 'Dropped the text “see you at lunch”, which holds no CID or link.' });
    expect(sourceFromDrop({ uriList: '', text: '', files: ['photo.jpg'] })).toEqual({
      ok: false,
      what: 'Dropped a file (photo.jpg): the browser does not say where it is on disk, so type its folder in Add mount instead.',
    });
    expect(sourceFromDrop({ uriList: '', text: '', files: [] })).toEqual({ ok: false, what: 'The drop held nothing Berth could read.' });
  });
});
