/**
 * `cairn serve` security: the browser opener never sees the token (a private redirect file
 * does), a non-loopback --host needs TLS or an explicit --insecure-http, TLS works end to end,
 * and an oversized body gets a 413 answer rather than a connection reset.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/db/store';
import { startHttpHost } from '../../src-main/hosts/http';
import { Runner } from '../../src-main/runner/runner';
import { createWorkbench } from '../../src-main/service/workbench';
import { cli, startCli, tmpDir } from '../helpers/cli';

const dir = tmpDir('cairn-serve-sec-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function httpsCall(url: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = https.request(
      { host: u.hostname, port: u.port, path: '/api/info', method: 'POST', rejectUnauthorized: false, headers: { Authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end('{"args":[]}');
  });
}

describe('cairn serve: exposure and tokens', () => {
  it('refuses a non-loopback --host over plain HTTP, and half a TLS pair, with one line and exit 2', async () => {
    const r = await cli(['serve', '--host', '0.0.0.0', '--no-open', '--db', path.join(dir, 'a.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cairn: --host: 0\.0\.0\.0 is reachable from the network, .* --tls-cert and --tls-key, or --insecure-http .*\n$/);
    expect(r.stdout).toBe('');
    expect(fs.existsSync(path.join(dir, 'a.db'))).toBe(false);
    const half = await cli(['serve', '--tls-cert', path.join(dir, 'none.pem'), '--no-open', '--db', path.join(dir, 'a.db')]);
    expect(half.code).toBe(2);
    expect(half.stderr).toBe('cairn: --tls-key: required with --tls-cert (the PEM private key file)\n');
  });

  it('serves HTTPS with a given certificate and opens the browser through a private redirect file', async () => {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], {
      stdio: 'ignore',
    });
    const ui = path.join(dir, 'ui');
    fs.mkdirSync(ui, { recursive: true });
    fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>Cairn</title>');
    // A "browser" that records the command line it was given.
    const argvFile = path.join(dir, 'browser-argv.json');
    const browser = path.join(dir, 'browser.sh');
    fs.writeFileSync(browser, `#!/bin/sh\nnode -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))' ${argvFile} "$@"\n`, { mode: 0o755 });
    const child = startCli(
      ['serve', '--host', '0.0.0.0', '--tls-cert', cert, '--tls-key', key, '--open', '--db', path.join(dir, 'tls.db'), '--parallel', '1'],
      { CAIRN_RENDERER_DIR: ui, BROWSER: browser },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const t0 = Date.now();
    while (!(stdout.includes('\n') && fs.existsSync(argvFile)) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50));
    const m = /^Cairn workbench: (https:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]{64}))\n/.exec(stdout);
    expect(m, `stdout: ${stdout}\nstderr: ${stderr}`).not.toBeNull();
    const [, url, , token] = m!;
    expect(stderr).toMatch(/listening on 0\.0\.0\.0 over HTTPS/);
    expect(await httpsCall(url, token)).toMatchObject({ status: 200 });
    expect((await httpsCall(url, 'f'.repeat(64))).status).toBe(401);

    const argv = JSON.parse(fs.readFileSync(argvFile, 'utf8')) as string[];
    expect(argv).toHaveLength(1);
    expect(argv[0]).not.toContain(token);
    expect(argv[0]).toMatch(/^file:\/\/.*\/open\.html$/);
    const redirect = new URL(argv[0]).pathname;
    expect(fs.statSync(redirect).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(redirect)).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(redirect, 'utf8')).toContain(url);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(fs.existsSync(redirect)).toBe(false);
  });

  it('answers an oversized body with 413, declared or streamed, and keeps serving', async () => {
    const store = await Store.open(path.join(dir, 'limit.db'));
    const runner = new Runner({ store, maxParallel: 1, backend: 'wasm' });
    const wb = createWorkbench({ store, runner, host: 'http', backend: 'wasm', version: '0' });
    const host = await startHttpHost({ workbench: wb, port: 0, maxBodyBytes: 1024 });
    const post = (body: string, chunked: boolean) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: host.port,
            path: '/api/info',
            method: 'POST',
            headers: { Authorization: `Bearer ${host.token}`, ...(chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': Buffer.byteLength(body) }) },
          },
          (res) => {
            let b = '';
            res.on('data', (d) => (b += d));
            res.on('end', () => resolve({ status: res.statusCode!, body: b }));
          },
        );
        req.on('error', reject);
        if (chunked) for (let i = 0; i < body.length; i += 512) req.write(body.slice(i, i + 512));
        else req.write(body);
        req.end();
      });
    const big = JSON.stringify({ args: ['x'.repeat(4000)] });
    for (const chunked of [false, true]) {
      const r = await post(big, chunked);
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body).error.message).toBe('body: request body larger than 1024 bytes');
    }
    expect((await post('{"args":[]}', false)).status).toBe(200);
    await host.close();
    await wb.close();
  });
});
