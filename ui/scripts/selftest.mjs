// Tests for the browser modules that do not touch the DOM: listen signing
// and heard-time metering. Run with `node scripts/selftest.mjs` (Node 20+,
// which has WebCrypto as globalThis.crypto); ui_test.go runs it too.
import test from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { bytesToHex, createSigner, hexToBytes, hmacSha256, sha256 } from '../static/hmac.js';
import { ListenMeter } from '../static/listen-meter.js';

const utf8 = new TextEncoder();
const subtle = globalThis.crypto?.subtle ?? webcrypto.subtle;

test('sha256 known answers', () => {
  const cases = {
    '': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    abc: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    // 56 bytes: the length no longer fits in the first block.
    abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq:
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  };
  for (const [input, want] of Object.entries(cases)) {
    assert.equal(bytesToHex(sha256(utf8.encode(input))), want, JSON.stringify(input));
  }
});

const fox = 'The quick brown fox jumps over the lazy dog';
const foxMAC = 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8';

test('HMAC-SHA256 vector through WebCrypto', async () => {
  assert.ok(subtle, 'WebCrypto is missing');
  const sign = createSigner(utf8.encode('key'), subtle);
  assert.equal(await sign(fox), foxMAC);
});

test('HMAC-SHA256 vector through the pure-JS fallback', async () => {
  const sign = createSigner(utf8.encode('key'), null);
  assert.equal(await sign(fox), foxMAC);
});

test('HMAC-SHA256 with a key longer than a block (RFC 4231 case 6)', () => {
  const key = new Uint8Array(131).fill(0xaa);
  const mac = hmacSha256(key, utf8.encode('Test Using Larger Than Block-Size Key - Hash Key First'));
  assert.equal(bytesToHex(mac), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
});

test('fallback matches WebCrypto across padding boundaries', async () => {
  const key = hexToBytes('00112233445566778899aabbccddeeff');
  const viaSubtle = createSigner(key, subtle);
  const viaJS = createSigner(key, null);
  for (let n = 0; n < 200; n++) {
    const message = 's3ss10n.' + 'x'.repeat(n);
    assert.equal(await viaJS(message), await viaSubtle(message), `length ${message.length}`);
  }
});

test('hexToBytes rejects malformed keys', () => {
  assert.throws(() => hexToBytes('abc'));
  assert.throws(() => hexToBytes('zz'));
  assert.deepEqual([...hexToBytes('00ff10')], [0, 255, 16]);
});

// play advances the meter like a playing <audio> element: timeupdate about
// every 250 ms.
function play(meter, from, seconds) {
  let t = from;
  for (let i = 0; i < seconds * 4; i++) {
    t += 0.25;
    meter.update(t, true);
  }
  return t;
}

test('forward playback adds heard time', () => {
  const m = new ListenMeter(30000, 180000);
  m.jump(0);
  play(m, 0, 10);
  assert.equal(m.heardMs, 10000);
});

test('a seek forward does not add', () => {
  const m = new ListenMeter(30000, 180000);
  m.jump(0);
  const t = play(m, 0, 5);
  // The element reports seeking, then the new position; both as not playing.
  m.jump(t + 60);
  m.update(t + 60, false);
  // Even a timeupdate that missed the seeking flag must not count a jump.
  m.update(t + 120, true);
  assert.equal(m.heardMs, 5000);
});

test('pause does not add', () => {
  const m = new ListenMeter(30000, 180000);
  m.jump(0);
  const t = play(m, 0, 4);
  m.update(t + 0.2, false); // late timeupdate after pause
  m.update(t + 0.2, false);
  assert.equal(m.heardMs, 4000);
});

test('seeking back and replaying adds again', () => {
  const m = new ListenMeter(30000, 180000);
  m.jump(0);
  play(m, 0, 10);
  m.jump(2);
  m.update(2, false);
  play(m, 2, 6);
  assert.equal(m.heardMs, 16000);
});

test('threshold is reported exactly once', () => {
  const m = new ListenMeter(3000, 180000);
  m.jump(0);
  let crossings = 0;
  let t = 0;
  for (let i = 0; i < 40; i++) {
    t += 0.25;
    if (m.update(t, true)) crossings++;
    if (crossings === 1 && m.heardMs < 3000) assert.fail('crossed before the threshold');
  }
  assert.equal(crossings, 1);
});

test('short tracks qualify when heard in full', () => {
  const m = new ListenMeter(30000, 8000);
  m.jump(0);
  let crossed = false;
  for (let t = 0.25; t <= 8; t += 0.25) crossed = m.update(t, true) || crossed;
  assert.equal(crossed, true);
});
