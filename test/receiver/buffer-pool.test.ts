import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/receiver/buffer-pool.js';

describe('BufferPool', () => {
  it('hands out exact-size views and reuses released buffers of the same class', () => {
    const pool = new BufferPool();
    const a = pool.acquire(200_000);
    expect(a.length).toBe(200_000);
    a[0] = 7;
    pool.release(a);
    expect(pool.idle).toBe(262_144);
    const b = pool.acquire(150_000);
    expect(b.length).toBe(150_000);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.idle).toBe(0);
  });

  it('never hands the same buffer to two holders', () => {
    const pool = new BufferPool();
    const a = pool.acquire(100_000);
    const b = pool.acquire(100_000);
    expect(a.buffer).not.toBe(b.buffer);
  });

  it('keeps at most maxIdleBytes idle', () => {
    const pool = new BufferPool(300_000);
    const bufs = [pool.acquire(200_000), pool.acquire(200_000)];
    for (const b of bufs) pool.release(b);
    expect(pool.idle).toBe(262_144);
  });

  it('ignores small buffers and foreign buffers', () => {
    const pool = new BufferPool();
    pool.release(pool.acquire(100));
    pool.release(Buffer.alloc(70_000));
    pool.release(Buffer.alloc(1_000_000).subarray(10));
    expect(pool.idle).toBe(0);
  });
});
