import { allowListsSchema, isAllowedHost, isAllowedOrigin, isLoopbackAddress, sdkAllowLists } from '../../layers/server/src/allow-lists';

/** The Host and Origin rules of the local server (issue 12 item 2), without a server. */

const lists = allowListsSchema.parse({ hosts: ['MyBox.lan', 'pinned.lan:9000', '[fd00::1]'], origins: ['https://App.example.com/'] });

describe('allow lists', () => {
  it('normalize entries: lower-case names, ports when given, origins as URL.origin', () => {
    expect(lists).toEqual({
      hosts: [
        { hostname: 'mybox.lan', port: null },
        { hostname: 'pinned.lan', port: 9000 },
        { hostname: '[fd00::1]', port: null },
      ],
      origins: ['https://app.example.com'],
    });
  });

  it('refuse entries that are more than a host or an origin', () => {
    for (const host of ['http://mybox.lan', 'mybox.lan/x', 'user@mybox.lan', 'mybox.lan:99999', '', 'a b', '127.1']) {
      expect(allowListsSchema.safeParse({ hosts: [host] }).success).toBe(false);
    }
    for (const origin of ['app.example.com', 'https://app.example.com/path', 'null', 'file:///tmp/x', 'https://app.example.com?x']) {
      expect(allowListsSchema.safeParse({ origins: [origin] }).success).toBe(false);
    }
  });

  it('Host: the loopback names on the arrival port, or an allowed name (any port, or its own)', () => {
    for (const host of ['127.0.0.1:8000', 'localhost:8000', 'LOCALHOST:8000', '[::1]:8000']) expect(isAllowedHost(host, 8000, lists)).toBe(true);
    expect(isAllowedHost('localhost', 80, lists)).toBe(true);
    for (const host of ['127.0.0.1:8001', 'localhost', '127.0.0.2:8000', 'localhost.:8000', 'evil.example:8000', '0.0.0.0:8000', undefined, '']) {
      expect(isAllowedHost(host, 8000, lists)).toBe(false);
    }
    expect(isAllowedHost('mybox.lan:1234', 8000, lists)).toBe(true);
    expect(isAllowedHost('pinned.lan:9000', 8000, lists)).toBe(true);
    expect(isAllowedHost('pinned.lan:8000', 8000, lists)).toBe(false);
    expect(isAllowedHost('[fd00::1]:8000', 8000, lists)).toBe(true);
  });

  it('Origin: the server’s own as the Host names it, or an allowed one; never null', () => {
    expect(isAllowedOrigin('http://127.0.0.1:8000', '127.0.0.1:8000', lists)).toBe(true);
    expect(isAllowedOrigin('https://app.example.com', '127.0.0.1:8000', lists)).toBe(true);
    for (const origin of ['http://localhost:8000', 'https://127.0.0.1:8000', 'http://127.0.0.1:8001', 'null', '', 'https://app.example.com.evil']) {
      expect(isAllowedOrigin(origin, '127.0.0.1:8000', lists)).toBe(false);
    }
  });

  it('gives the MCP SDK the same lists as exact Host values and origins', () => {
    const sdk = sdkAllowLists(lists, 8000);
    expect(sdk.allowedHosts).toEqual(expect.arrayContaining(['127.0.0.1:8000', 'localhost:8000', '[::1]:8000', 'mybox.lan', 'mybox.lan:8000', 'pinned.lan:9000']));
    expect(sdk.allowedHosts).not.toContain('pinned.lan:8000');
    expect(sdk.allowedOrigins).toEqual(expect.arrayContaining(['http://127.0.0.1:8000', 'http://mybox.lan:8000', 'https://app.example.com']));
  });

  it('knows which listen addresses are loopback', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ['0.0.0.0', '::', '192.168.1.5', 'mybox.lan', '128.0.0.1']) expect(isLoopbackAddress(a)).toBe(false);
  });
});
