import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobStore, StorageError, checkpointKey, checkpointPrefix, sha256Hex, type CheckpointPointer } from '../../layers/storage/src';
import type { LocalRuntime } from '../../layers/storage/src/local-runtime';
import { testRuntime } from './helpers';

describe('BlobStore on s3rver', () => {
  let runtime: LocalRuntime;
  let blobs: BlobStore;

  beforeAll(async () => {
    runtime = await testRuntime();
    blobs = runtime.data;
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('puts, heads, gets, lists and deletes objects', async () => {
    await blobs.put('reports/a.json', '{"a":1}', { contentType: 'application/json', metadata: { kind: 'report' } });
    await blobs.put('reports/b.json', new TextEncoder().encode('{"b":2}'));
    await blobs.put('datasets/x.bin', new Uint8Array([1, 2, 3]));
    expect(new TextDecoder().decode((await blobs.get('reports/a.json'))!)).toBe('{"a":1}');
    expect(await blobs.head('reports/a.json')).toMatchObject({ size: 7, metadata: { kind: 'report' }, contentType: 'application/json' });
    expect(await blobs.get('reports/none.json')).toBeNull();
    expect(await blobs.head('reports/none.json')).toBeNull();
    expect((await blobs.listAll('reports/')).map((o) => o.key)).toEqual(['reports/a.json', 'reports/b.json']);
    const first = await blobs.list('reports/', { limit: 1 });
    expect(first.items.map((o) => o.key)).toEqual(['reports/a.json']);
    expect(first.cursor).not.toBeNull();
    const second = await blobs.list('reports/', { limit: 1, cursor: first.cursor });
    expect(second.items.map((o) => o.key)).toEqual(['reports/b.json']);
    await blobs.delete('reports/a.json');
    await blobs.delete('reports/a.json'); // deleting a missing key is fine
    await blobs.deleteMany(['reports/b.json', 'datasets/x.bin']);
    expect(await blobs.listAll('reports/')).toEqual([]);
    expect(await blobs.head('datasets/x.bin')).toBeNull();
  });

  it('uploads large bodies and streams multipart, byte for byte', async () => {
    const big = randomBytes(12 * 1024 * 1024 + 123); // three 5 MiB parts
    const multipart = new BlobStore(runtime.clients.s3, runtime.config.dataBucket, { partSize: 5 * 1024 * 1024 });
    await multipart.put('datasets/big.bin', big);
    const back = await multipart.get('datasets/big.bin');
    expect(back!.byteLength).toBe(big.byteLength);
    expect(sha256Hex(back!)).toBe(sha256Hex(big));
    // A stream of unknown length (the case the aws-chunked framing corrupted with default checksums).
    const streamed = randomBytes(6 * 1024 * 1024);
    await multipart.put('datasets/streamed.bin', Readable.from([streamed.subarray(0, 1000), streamed.subarray(1000)]));
    expect(sha256Hex((await multipart.get('datasets/streamed.bin'))!)).toBe(sha256Hex(streamed));
    const small = Readable.from([Buffer.from('hello '), Buffer.from('stream')]);
    await blobs.put('datasets/small-stream.txt', small);
    expect(new TextDecoder().decode((await blobs.get('datasets/small-stream.txt'))!)).toBe('hello stream');
    const stream = await blobs.getStream('datasets/small-stream.txt');
    const chunks: Buffer[] = [];
    for await (const chunk of stream!) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('hello stream');
  });

  it('stores checkpoints under content-addressed keys and verifies them on read', async () => {
    const checkpoints = runtime.checkpoints;
    const bytes = randomBytes(2048);
    const sha256 = sha256Hex(bytes);
    const pointer: CheckpointPointer = { key: checkpointKey('tenant-a', 'ep-1', sha256, 'attempt-1'), sha256, size: bytes.byteLength };
    expect(pointer.key).toBe(`checkpoints/tenant-a/ep-1/${sha256}.attempt-1.bin`);
    expect(pointer.key.startsWith(checkpointPrefix('tenant-a', 'ep-1'))).toBe(true);
    await checkpoints.putCheckpoint(pointer, bytes);
    expect(Buffer.from(await checkpoints.getCheckpoint(pointer)).equals(bytes)).toBe(true);
    expect((await checkpoints.head(pointer.key))?.metadata).toEqual({ sha256 });
    // Bytes that do not match the pointer are not written.
    await expect(checkpoints.putCheckpoint({ ...pointer, key: `${pointer.key}.x` }, randomBytes(2048))).rejects.toMatchObject({ code: 'integrity' });
  });

  it('rejects a corrupted or missing checkpoint', async () => {
    const checkpoints = runtime.checkpoints;
    const bytes = randomBytes(4096);
    const sha256 = sha256Hex(bytes);
    const pointer: CheckpointPointer = { key: checkpointKey('tenant-a', 'ep-2', sha256, 'attempt-1'), sha256, size: bytes.byteLength };
    await checkpoints.putCheckpoint(pointer, bytes);
    // Flip one byte behind the store's back.
    const corrupted = Buffer.from(bytes);
    corrupted[100] ^= 0xff;
    await runtime.clients.s3.send(new PutObjectCommand({ Bucket: runtime.config.checkpointBucket, Key: pointer.key, Body: corrupted }));
    const error = await checkpoints.getCheckpoint(pointer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: 'integrity', details: { expected_sha256: sha256, actual_sha256: sha256Hex(corrupted) } });
    expect((error as Error).message).toMatch(/is corrupt/);
    // Truncated.
    await runtime.clients.s3.send(new PutObjectCommand({ Bucket: runtime.config.checkpointBucket, Key: pointer.key, Body: bytes.subarray(0, 10) }));
    await expect(checkpoints.getCheckpoint(pointer)).rejects.toMatchObject({ code: 'integrity' });
    await checkpoints.delete(pointer.key);
    await expect(checkpoints.getCheckpoint(pointer)).rejects.toThrow(/is missing/);
  });

  it('refuses key segments that could escape the episode prefix', () => {
    expect(() => checkpointPrefix('../other', 'ep')).toThrow(StorageError);
    expect(() => checkpointPrefix('tenant', 'a/b')).toThrow(StorageError);
    expect(() => checkpointKey('tenant', 'ep', 'not-a-digest', 'a')).toThrow(StorageError);
  });

  it('streams a PutObject intact only with the WHEN_REQUIRED checksum settings (why localEndpoint matters)', async () => {
    const naive = new S3Client({
      region: runtime.config.region,
      endpoint: runtime.endpoints.s3,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const body = Buffer.from('checkpoint bytes');
    const putStream = (client: S3Client, key: string) =>
      client.send(new PutObjectCommand({ Bucket: runtime.config.dataBucket, Key: key, Body: Readable.from([body]), ContentLength: body.length }));
    try {
      await putStream(naive, 'datasets/naive.bin');
      await putStream(runtime.clients.s3, 'datasets/configured.bin');
    } finally {
      naive.destroy();
    }
    expect(Buffer.from((await blobs.get('datasets/naive.bin'))!).equals(body)).toBe(false); // aws-chunked framing stored as content
    expect(Buffer.from((await blobs.get('datasets/configured.bin'))!).equals(body)).toBe(true);
  });
});
