import { describe, expect, it } from 'vitest';
import { type Loc, presentLink, targetLoc } from '../../../../src-main/guests/ipfsLinks.ts';
import { FsError } from '../../../../src-main/vfs/FsError.ts';

const CID = 'QmZdSwKJoJbv1nWhg56msBkYDRnUTgYuZRg4rZUs9C4VWB';
const at = (...segs: string[]): Loc => ({ space: 'mount', segs });

function kind(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err instanceof FsError ? err.kind : String(err);
  }
}

describe('targetLoc', () => {
  it('resolves relative targets against the link folder', () => {
    expect(targetLoc(at('root', 'links', 'rel'), '../a/file.txt')).toEqual(at('root', 'a', 'file.txt'));
    expect(targetLoc(at('root', 'links', 'loop1'), 'loop2')).toEqual(at('root', 'links', 'loop2'));
    expect(targetLoc(at('root', 'x'), './a//b/.')).toEqual(at('root', 'a', 'b'));
  });
  it('refuses targets that climb above the mount root', () => {
    expect(kind(() => targetLoc(at('root', 'links', 'outside'), '../../../../etc/passwd'))).toBe('Permission');
    expect(kind(() => targetLoc(at('x'), '../y'))).toBe('Permission');
  });
  it('inside followed content, the CID itself cannot be climbed out of', () => {
    expect(targetLoc({ space: 'ipfs', segs: [CID, 'd', 'l'] }, '../f')).toEqual({ space: 'ipfs', segs: [CID, 'f'] });
    expect(kind(() => targetLoc({ space: 'ipfs', segs: [CID, 'l'] }, '../f'))).toBe('Permission');
  });
  it('reads /ipfs/, /ipns/ and /-rooted targets', () => {
    expect(targetLoc(at('a', 'l'), `/ipfs/${CID}/p/q`)).toEqual({ space: 'ipfs', segs: [CID, 'p', 'q'] });
    expect(targetLoc(at('a', 'l'), '/ipns/example.org/x')).toEqual({ space: 'ipns', segs: ['example.org', 'x'] });
    expect(targetLoc(at('a', 'l'), '/docs/x')).toEqual(at('docs', 'x'));
    expect(kind(() => targetLoc(at('a', 'l'), `/ipfs/${CID}/../..`))).toBe('Permission');
    expect(kind(() => targetLoc(at('a', 'l'), '/ipfs/'))).toBe('NotExist');
    expect(kind(() => targetLoc(at('a', 'l'), ''))).toBe('NotExist');
  });
});

describe('presentLink', () => {
  it('keeps relative targets that stay inside, refuses those that do not', () => {
    expect(presentLink(at('r', 'links', 'rel'), '../a/file.txt', 'ipfs')).toEqual({ kind: 'keep', text: '../a/file.txt' });
    expect(presentLink(at('r', 'links', 'outside'), '../../../../etc/passwd').kind).toBe('refuse');
  });
  it('rewrites /ipfs/ targets into the namespace mount, relative to the link', () => {
    expect(presentLink(at('r', 'links', 'abs'), `/ipfs/${CID}`, 'ipfs')).toEqual({ kind: 'keep', text: `../../${CID}` });
    expect(presentLink(at('r', 'abs'), `/ipfs/${CID}/a/b`, 'ipfs')).toEqual({ kind: 'keep', text: `../${CID}/a/b` });
  });
  it('follows /ipfs/ targets when the mount is not that namespace', () => {
    expect(presentLink(at('links', 'abs'), `/ipfs/${CID}`)).toEqual({ kind: 'follow' });
    expect(presentLink(at('r', 'abs'), `/ipfs/${CID}`, 'ipns')).toEqual({ kind: 'follow' });
    expect(presentLink(at('r', 'abs'), '/ipns/example.org', 'ipns')).toEqual({ kind: 'keep', text: '../example.org' });
  });
  it('treats / as the mount root', () => {
    expect(presentLink(at('a', 'b', 'l'), '/docs/x')).toEqual({ kind: 'keep', text: '../../docs/x' });
    expect(presentLink(at('l'), '/')).toEqual({ kind: 'keep', text: '.' });
  });
  it('follows absolute links found inside followed content', () => {
    expect(presentLink({ space: 'ipfs', segs: [CID, 'l'] }, '/docs')).toEqual({ kind: 'follow' });
  });
});
