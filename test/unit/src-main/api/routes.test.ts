import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../../../src-shared/api.ts';
import { SERVICE_CHANNELS, type ServiceChannel } from '../../../../src-shared/bridge.ts';
import { HTTP_BINDINGS } from '../../../../src-shared/httpBindings.ts';
import { matchRoute } from '../../../../src-main/api/routes.ts';

describe('matchRoute', () => {
  it('matches every route of the contract', () => {
    for (const [name, r] of Object.entries(API_ROUTES)) {
      expect(matchRoute(r.method, r.path.replace(':id', r.path.includes('notices') ? 'n_abc' : 'm_abc')).name, name).toBe(name);
    }
    expect(matchRoute('GET', '/v1/mounts/m_abc').id).toBe('m_abc');
  });
  it('every service channel of the bridge travels to the route of the same name', () => {
    const sample = { id: 'm_abc', spec: {}, path: '/x', text: 't' };
    for (const name of Object.keys(SERVICE_CHANNELS) as ServiceChannel[]) {
      const b = HTTP_BINDINGS[name] as { method: string; path: (i: unknown) => string };
      const input = name === 'dismissNotice' ? { id: 'n_abc' } : sample;
      expect(matchRoute(b.method, b.path(input)).name, name).toBe(name);
    }
  });
  it('answers 404 for unknown paths, 405 for a wrong method, 400 for a bad id', () => {
    expect(() => matchRoute('GET', '/')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => matchRoute('GET', '/v1/nope')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => matchRoute('GET', '/v1/mounts/m_abc/explode')).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => matchRoute('PATCH', '/v1/mounts')).toThrow(expect.objectContaining({ status: 405 }));
    expect(() => matchRoute('GET', '/v1/mounts/..%2Fetc')).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => matchRoute('GET', '/v1/mounts/%E0%A4%A')).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => matchRoute('GET', `/v1/mounts/${'a'.repeat(65)}`)).toThrow(expect.objectContaining({ status: 400 }));
  });
});
