/**
 * Round trips, as sozu's own planner tests do: the orders from empty to a
 * state rebuild it, the orders back tear it all down, and once applied
 * there is nothing left to do. `replay` applies orders to a SozuState the
 * way sozu's state does, refusing what sozu would refuse, so an order in
 * the wrong place (a front before its application) fails the test.
 */
import { describe, expect, it } from 'vitest';
import { desiredSozuState, certificateFingerprint } from '../../../src/lb/sozu/desired.js';
import { diffSozuState } from '../../../src/lb/sozu/diff.js';
import type { LbState } from '../../../src/protocol/libra/model.js';
import type { SozuOrder } from '../../../src/protocol/sozu/messages.js';
import { emptySozuState, type SozuState } from '../../../src/protocol/sozu/state.js';
import { selfSigned } from '../../helpers/sozu/certs.js';
import { httpLb, node, tcpLb } from '../../helpers/sozu/model.js';

function replay(start: SozuState, orders: SozuOrder[]): SozuState {
  const s = structuredClone(start);
  const need = (ok: boolean, what: string): void => {
    if (!ok) throw new Error(`sozu would refuse: ${what}`);
  };
  const hasApp = (id: string): boolean => s.applications.some((a) => a.app_id === id);
  const eq = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);
  for (const o of orders) {
    switch (o.type) {
      case 'ADD_HTTP_LISTENER':
      case 'ADD_HTTPS_LISTENER':
      case 'ADD_TCP_LISTENER':
        need(!s.listeners.some((l) => l.address === o.data.front), `duplicate listener ${o.data.front}`);
        s.listeners.push({ address: o.data.front, proxy: o.type === 'ADD_TCP_LISTENER' ? 'tcp' : o.type === 'ADD_HTTPS_LISTENER' ? 'https' : 'http', active: false });
        break;
      case 'ACTIVATE_LISTENER':
      case 'DEACTIVATE_LISTENER': {
        const l = s.listeners.find((x) => x.address === o.data.front && x.proxy === o.data.proxy);
        need(l !== undefined, `no listener ${o.data.front}`);
        l!.active = o.type === 'ACTIVATE_LISTENER';
        break;
      }
      case 'REMOVE_LISTENER':
        need(s.listeners.some((l) => l.address === o.data.front), `no listener ${o.data.front}`);
        need(![...s.http_fronts, ...s.https_fronts, ...s.tcp_fronts].some((f) => f.address === o.data.front), 'listener still has fronts');
        s.listeners = s.listeners.filter((l) => l.address !== o.data.front);
        break;
      case 'ADD_APPLICATION':
        s.applications = [...s.applications.filter((a) => a.app_id !== o.data.app_id), o.data];
        break;
      case 'REMOVE_APPLICATION':
        need(hasApp(o.data), `no application ${o.data}`);
        need(!s.backends.some((b) => b.app_id === o.data), 'application still has backends');
        s.applications = s.applications.filter((a) => a.app_id !== o.data);
        break;
      case 'ADD_BACKEND':
        need(hasApp(o.data.app_id), `backend for unknown app ${o.data.app_id}`);
        s.backends.push(o.data);
        break;
      case 'REMOVE_BACKEND':
        need(s.backends.some((b) => b.backend_id === o.data.backend_id && b.app_id === o.data.app_id), 'absent backend');
        s.backends = s.backends.filter((b) => !(b.backend_id === o.data.backend_id && b.app_id === o.data.app_id));
        break;
      case 'ADD_CERTIFICATE':
        s.certificates.push({ fingerprint: certificateFingerprint(o.data.certificate.certificate), material: o.data.certificate });
        break;
      case 'REMOVE_CERTIFICATE':
        need(!s.https_fronts.some((f) => f.fingerprint === o.data.fingerprint), 'certificate in use');
        s.certificates = s.certificates.filter((c) => c.fingerprint !== o.data.fingerprint);
        break;
      case 'ADD_HTTP_FRONT':
      case 'ADD_HTTPS_FRONT':
      case 'ADD_TCP_FRONT': {
        need(hasApp(o.data.app_id), `front for unknown app ${o.data.app_id}`);
        need(s.listeners.some((l) => l.address === o.data.address && l.active), `front on a listener not active ${o.data.address}`);
        if (o.type === 'ADD_HTTPS_FRONT') need(s.certificates.some((c) => c.fingerprint === o.data.fingerprint), 'front before its certificate');
        const list = o.type === 'ADD_HTTP_FRONT' ? s.http_fronts : o.type === 'ADD_HTTPS_FRONT' ? s.https_fronts : s.tcp_fronts;
        need(!list.some((f) => eq(f, o.data)), 'duplicate front');
        (list as unknown[]).push(o.data);
        break;
      }
      case 'REMOVE_HTTP_FRONT':
        need(s.http_fronts.some((f) => eq(f, o.data)), 'absent front');
        s.http_fronts = s.http_fronts.filter((f) => !eq(f, o.data));
        break;
      case 'REMOVE_HTTPS_FRONT':
        need(s.https_fronts.some((f) => eq(f, o.data)), 'absent front');
        s.https_fronts = s.https_fronts.filter((f) => !eq(f, o.data));
        break;
      case 'REMOVE_TCP_FRONT':
        need(s.tcp_fronts.some((f) => eq(f, o.data)), 'absent front');
        s.tcp_fronts = s.tcp_fronts.filter((f) => !eq(f, o.data));
        break;
    }
  }
  return s;
}

const tlsA = selfSigned('secure.example.test');
const lb1 = httpLb('1', 18001, [node('n1', 9001), node('n2', 9002, { weight: 300 })]);
const lb2 = tcpLb('2', 18002, [node('t1', 9101), node('t2', 9102, { backup: true })]);
const lb3 = httpLb('3', 18003, [node('s1', 9201)], { hostname: 'secure.example.test', pathBegin: '/api', tls: tlsA });
const states: Record<string, LbState> = {
  'one HTTP lb': { loadBalancers: [lb1], suspended: false },
  'HTTP + TCP': { loadBalancers: [lb1, lb2], suspended: false },
  'HTTPS with a certificate': { loadBalancers: [lb3], suspended: false },
  suspended: { loadBalancers: [lb1, lb2, lb3], suspended: true },
  'a disabled node': { loadBalancers: [httpLb('1', 18001, [node('n1', 9001), node('n2', 9002, { condition: 'DISABLED' })])], suspended: false },
};
const bind = '127.0.0.1';
const strip = (s: SozuState): SozuState => ({ ...s, certificates: s.certificates.map((c) => ({ fingerprint: c.fingerprint })) });

describe('diffSozuState round trips', () => {
  for (const [name, model] of Object.entries(states)) {
    const want = desiredSozuState(model, bind);
    it(`${name}: empty -> state builds it, state -> empty tears it down, and nothing is left to do`, () => {
      const built = replay(emptySozuState(), diffSozuState(emptySozuState(), want));
      expect(diffSozuState(strip(built), want)).toEqual([]);
      const torn = replay(built, diffSozuState(built, emptySozuState()));
      expect(torn).toEqual(emptySozuState());
    });
  }

  for (const [from, a] of Object.entries(states)) {
    for (const [to, b] of Object.entries(states)) {
      if (from === to) continue;
      it(`${from} -> ${to}`, () => {
        const start = replay(emptySozuState(), diffSozuState(emptySozuState(), desiredSozuState(a, bind)));
        const want = desiredSozuState(b, bind);
        const end = replay(start, diffSozuState(strip(start), want));
        expect(diffSozuState(strip(end), want)).toEqual([]);
      });
    }
  }
});

describe('diffSozuState ordering', () => {
  it('adds backends before fronts, certificates before HTTPS fronts, removes fronts before backends', () => {
    const types = (o: SozuOrder[]): string[] => o.map((x) => x.type);
    const up = types(diffSozuState(emptySozuState(), desiredSozuState({ loadBalancers: [lb3], suspended: false }, bind)));
    expect(up).toEqual(['ADD_HTTPS_LISTENER', 'ACTIVATE_LISTENER', 'ADD_APPLICATION', 'ADD_CERTIFICATE', 'ADD_BACKEND', 'ADD_HTTPS_FRONT']);
    const built = desiredSozuState({ loadBalancers: [lb3], suspended: false }, bind);
    const down = types(diffSozuState(built, emptySozuState()));
    expect(down).toEqual(['REMOVE_HTTPS_FRONT', 'REMOVE_BACKEND', 'REMOVE_CERTIFICATE', 'REMOVE_APPLICATION', 'DEACTIVATE_LISTENER', 'REMOVE_LISTENER']);
  });

  it('maps the model: app_id = lb id, one backend per enabled node, weight capped to sozu\'s u8, SUSPEND drops only fronts', () => {
    const s = desiredSozuState({ loadBalancers: [lb1], suspended: false }, bind);
    expect(s.http_fronts).toEqual([{ app_id: '1', address: '127.0.0.1:18001', hostname: 'app.example.test', path_begin: '/' }]);
    expect(s.backends.map((b) => [b.backend_id, b.load_balancing_parameters?.weight])).toEqual([['n1', 1], ['n2', 255]]);
    const suspended = diffSozuState(s, desiredSozuState({ loadBalancers: [lb1], suspended: true }, bind));
    expect(suspended.map((o) => o.type)).toEqual(['REMOVE_HTTP_FRONT']);
  });

  it('requires a hostname for HTTP load balancers, naming the field', () => {
    const noHost = { ...lb1 };
    delete noHost.hostname;
    expect(() => desiredSozuState({ loadBalancers: [lb2, noHost], suspended: false }, bind)).toThrow(/loadBalancers\[1\]\.hostname is required/);
  });

  it('never puts key material in anything but ADD_CERTIFICATE', () => {
    const orders = diffSozuState(emptySozuState(), desiredSozuState({ loadBalancers: [lb3], suspended: false }, bind));
    for (const o of orders.filter((x) => x.type !== 'ADD_CERTIFICATE')) expect(JSON.stringify(o)).not.toContain('PRIVATE KEY');
  });
});
