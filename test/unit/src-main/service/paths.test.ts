import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { configDir, runtimeDir, socketPath, stateDir } from '../../../../src-main/service/paths.ts';

describe('paths', () => {
  it('follows the XDG variables', () => {
    const env = { XDG_CONFIG_HOME: '/c', XDG_RUNTIME_DIR: '/r', XDG_STATE_HOME: '/s' };
    expect(configDir(env)).toBe('/c/berth');
    expect(runtimeDir(env)).toBe('/r/berth');
    expect(socketPath(env)).toBe('/r/berth/api.sock');
    expect(stateDir(env)).toBe('/s/berth');
  });
  it('falls back to ~/.config, ~/.local/state and /tmp/berth-<uid>, ignoring relative values', () => {
    const env = { XDG_CONFIG_HOME: 'relative', XDG_RUNTIME_DIR: '' };
    expect(configDir(env)).toBe(`${homedir()}/.config/berth`);
    expect(stateDir({})).toBe(`${homedir()}/.local/state/berth`);
    expect(socketPath(env)).toBe(`/tmp/berth-${process.getuid!()}/api.sock`);
  });
});
