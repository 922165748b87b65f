import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentError } from '../../../src/errors.js';
import { normalizeMac, readInterfaces, resolveHostId, selectHostId } from '../../../src/host/index.js';
import type { NetInterface } from '../../../src/host/index.js';

describe('selectHostId', () => {
  const cases: Array<{ what: string; interfaces: NetInterface[]; expected: string | null }> = [
    { what: 'empty list', interfaces: [], expected: null },
    {
      what: 'alphabetical order, not list order',
      interfaces: [
        { name: 'eth1', mac: '52:54:00:00:00:02' },
        { name: 'eth0', mac: '52:54:00:00:00:01' },
      ],
      expected: '52:54:00:00:00:01',
    },
    {
      what: 'lo (all zeros) is skipped',
      interfaces: [
        { name: 'lo', mac: '00:00:00:00:00:00' },
        { name: 'eth0', mac: '52:54:00:12:34:56' },
      ],
      expected: '52:54:00:12:34:56',
    },
    {
      what: 'lower-case input is upper-cased',
      interfaces: [{ name: 'ens3', mac: 'fa:16:3e:ab:cd:ef' }],
      expected: 'FA:16:3E:AB:CD:EF',
    },
    {
      what: 'surrounding whitespace (sysfs newline) is ignored',
      interfaces: [{ name: 'ens3', mac: 'fa:16:3e:ab:cd:ef\n' }],
      expected: 'FA:16:3E:AB:CD:EF',
    },
    {
      what: 'missing MAC is skipped',
      interfaces: [
        { name: 'a0', mac: null },
        { name: 'b0', mac: '' },
        { name: 'eth0', mac: '52:54:00:00:00:01' },
      ],
      expected: '52:54:00:00:00:01',
    },
    {
      what: 'bond and its slaves share a MAC: the bond sorts first, same id either way',
      interfaces: [
        { name: 'eth1', mac: '52:54:00:aa:bb:cc' },
        { name: 'bond0', mac: '52:54:00:aa:bb:cc' },
        { name: 'eth0', mac: '52:54:00:aa:bb:cc' },
      ],
      expected: '52:54:00:AA:BB:CC',
    },
    {
      // This is the rule, not a bug: such hosts set hostagent.host_id (docs/host-identity.md).
      what: 'docker0 sorts before eth0 and is chosen',
      interfaces: [
        { name: 'eth0', mac: '52:54:00:00:00:01' },
        { name: 'docker0', mac: '02:42:ac:11:00:01' },
      ],
      expected: '02:42:AC:11:00:01',
    },
    {
      what: 'veth sorts after eth0',
      interfaces: [
        { name: 'veth1a2b3c', mac: 'be:ef:00:00:00:01' },
        { name: 'eth0', mac: '52:54:00:00:00:01' },
      ],
      expected: '52:54:00:00:00:01',
    },
    {
      what: 'code-unit order: upper-case names sort before lower-case',
      interfaces: [
        { name: 'eth0', mac: '52:54:00:00:00:01' },
        { name: 'Wlan0', mac: '52:54:00:00:00:09' },
      ],
      expected: '52:54:00:00:00:09',
    },
    {
      what: 'non-Ethernet addresses (ip6tnl 16 bytes, infiniband 20 bytes, ipip 4 bytes) are skipped',
      interfaces: [
        { name: 'ib0', mac: '80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:1b:2c' },
        { name: 'ip6tnl0', mac: '00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01' },
        { name: 'ipip0', mac: '0a:00:00:01' },
        { name: 'wlan0', mac: '52:54:00:00:00:07' },
      ],
      expected: '52:54:00:00:00:07',
    },
    {
      what: 'all ones (broadcast) and malformed addresses are skipped',
      interfaces: [
        { name: 'a', mac: 'ff:ff:ff:ff:ff:ff' },
        { name: 'b', mac: '52-54-00-00-00-01' },
        { name: 'c', mac: '52:54:00:00:00:zz' },
        { name: 'd', mac: '5:54:00:00:00:01' },
        { name: 'e', mac: '52:54:00:00:00:03' },
      ],
      expected: '52:54:00:00:00:03',
    },
    {
      what: 'no interface with a real MAC',
      interfaces: [
        { name: 'lo', mac: '00:00:00:00:00:00' },
        { name: 'tun0', mac: null },
      ],
      expected: null,
    },
  ];

  it.each(cases)('$what', ({ interfaces, expected }) => {
    expect(selectHostId(interfaces)).toBe(expected);
  });

  it('does not reorder its argument', () => {
    const interfaces = [
      { name: 'b', mac: '52:54:00:00:00:02' },
      { name: 'a', mac: '52:54:00:00:00:01' },
    ];
    selectHostId(interfaces);
    expect(interfaces.map((i) => i.name)).toEqual(['b', 'a']);
  });
});

describe('normalizeMac', () => {
  it.each([
    ['aa:bb:cc:dd:ee:0f', 'AA:BB:CC:DD:EE:0F'],
    ['AA:BB:CC:DD:EE:0F', 'AA:BB:CC:DD:EE:0F'],
    ['00:00:00:00:00:00', null],
    ['', null],
    [null, null],
    [undefined, null],
  ] as const)('%s -> %s', (input, expected) => {
    expect(normalizeMac(input)).toBe(expected);
  });
});

describe('readInterfaces and resolveHostId on a sysfs-like tree', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostagent-net-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function addInterface(name: string, address: string | null): Promise<void> {
    await mkdir(join(dir, name));
    if (address !== null) await writeFile(join(dir, name, 'address'), address);
  }

  it('reads each address file, trimmed, and null where there is none', async () => {
    await addInterface('lo', '00:00:00:00:00:00\n');
    await addInterface('eth0', '52:54:00:12:34:56\n');
    await addInterface('tun0', '\n');
    await addInterface('gone0', null);
    await writeFile(join(dir, 'bonding_masters'), 'bond0\n');

    const interfaces = await readInterfaces(dir);
    expect([...interfaces].sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual([
      { name: 'bonding_masters', mac: null },
      { name: 'eth0', mac: '52:54:00:12:34:56' },
      { name: 'gone0', mac: null },
      { name: 'lo', mac: '00:00:00:00:00:00' },
      { name: 'tun0', mac: null },
    ]);
    await expect(resolveHostId({ override: '', sysClassNet: dir })).resolves.toBe('52:54:00:12:34:56');
  });

  it('fails with HOST_ID_UNAVAILABLE, pointing at the override, when no interface has a real MAC', async () => {
    await addInterface('lo', '00:00:00:00:00:00\n');
    const err = await resolveHostId({ override: '', sysClassNet: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('HOST_ID_UNAVAILABLE');
    expect((err as AgentError).message).toMatch(/hostagent\.host_id/);
    expect((err as AgentError).message).toMatch(/HOSTAGENT_HOST_ID/);
  });

  it('fails with HOST_ID_UNAVAILABLE when the directory cannot be read', async () => {
    const err = await readInterfaces(join(dir, 'missing')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('HOST_ID_UNAVAILABLE');
    expect((err as AgentError).cause).toBeDefined();
  });

  it('reads the real /sys/class/net of this machine', async () => {
    const interfaces = await readInterfaces();
    expect(interfaces.some((i) => i.name === 'lo')).toBe(true);
  });
});

describe('resolveHostId override', () => {
  const noInterfaces = '/nonexistent/sys/class/net';

  it.each(['my-host.example.com', 'AA:BB:CC:DD:EE:FF', 'host_01', 'x', 'a'.repeat(128)])(
    'accepts %s as is, without reading interfaces',
    async (override) => {
      await expect(resolveHostId({ override, sysClassNet: noInterfaces })).resolves.toBe(override);
    },
  );

  it.each([' host', 'host id', 'a/b', 'a#b', 'a*', 'höst', 'a'.repeat(129)])(
    'rejects %j naming hostagent.host_id',
    async (override) => {
      const err = await resolveHostId({ override, sysClassNet: noInterfaces }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AgentError);
      expect((err as AgentError).code).toBe('CONFIG_INVALID');
      expect((err as AgentError).message).toMatch(/hostagent\.host_id/);
    },
  );
});
