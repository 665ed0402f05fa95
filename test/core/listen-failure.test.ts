import { describe, expect, it } from 'vitest';
import { listenFailure, StartupError } from '../../src/core/errors.js';

describe('listenFailure', () => {
  it('names the host and port in each cause an operator meets, IPv6 in brackets', () => {
    expect(listenFailure('EADDRINUSE', '0.0.0.0', 8080).message).toBe('listen EADDRINUSE: 0.0.0.0:8080 is already in use');
    expect(listenFailure('EADDRINUSE', '::', 8080).message).toBe('listen EADDRINUSE: [::]:8080 is already in use');
    expect(listenFailure('EACCES', '0.0.0.0', 80).message).toContain('no permission to listen on 0.0.0.0:80');
    expect(listenFailure('EADDRNOTAVAIL', '10.9.9.9', 8080).message).toContain('10.9.9.9 is not an address of this machine');
    expect(listenFailure('ENOTFOUND', 'gateway.internal', 8080).message).toContain('the host name gateway.internal does not resolve');
    expect(listenFailure('EWHATEVER', 'h', 1).message).toBe('listen EWHATEVER: cannot listen on h:1');
    expect(listenFailure(undefined, 'h', 1).message).toBe('listen failed: cannot listen on h:1');
    const e = listenFailure('EADDRINUSE', 'h', 1);
    expect(e).toBeInstanceOf(StartupError);
    expect(e.code).toBe('EADDRINUSE');
  });
});
