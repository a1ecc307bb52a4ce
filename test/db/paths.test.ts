/** Where the database and the checkpoints live. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointDir, defaultDbPath } from '../../src-main/db/paths';

describe('defaultDbPath', () => {
  it('uses CAIRN_DB when set, on every platform', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(defaultDbPath({ CAIRN_DB: '/data/runs.db', APPDATA: 'C:\\x', XDG_DATA_HOME: '/x' }, platform, '/home/u')).toBe(
        path.resolve('/data/runs.db'),
      );
    }
    expect(defaultDbPath({ CAIRN_DB: 'rel/runs.db' }, 'linux', '/home/u')).toBe(path.resolve('rel/runs.db'));
  });

  it('follows each platform’s convention for user data', () => {
    expect(defaultDbPath({ XDG_DATA_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/cairn/cairn.db');
    expect(defaultDbPath({}, 'linux', '/home/u')).toBe('/home/u/.local/share/cairn/cairn.db');
    // Relative XDG values are invalid per the spec and ignored.
    expect(defaultDbPath({ XDG_DATA_HOME: 'data' }, 'linux', '/home/u')).toBe('/home/u/.local/share/cairn/cairn.db');
    expect(defaultDbPath({ CAIRN_DB: '  ' }, 'freebsd', '/home/u')).toBe('/home/u/.local/share/cairn/cairn.db');
    expect(defaultDbPath({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/Cairn/cairn.db');
    expect(defaultDbPath({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u')).toBe(
      'C:\\Users\\u\\AppData\\Roaming\\Cairn\\cairn.db',
    );
    expect(defaultDbPath({}, 'win32', 'C:\\Users\\u')).toBe('C:\\Users\\u\\AppData\\Roaming\\Cairn\\cairn.db');
  });
});

describe('checkpointDir', () => {
  it('puts checkpoints beside the database, one folder per database and run', () => {
    const base = path.resolve('/tmp/t1');
    expect(checkpointDir(path.join(base, 'cairn.db'), 7)).toBe(path.join(base, 'checkpoints', 'cairn', 'run-7'));
    expect(checkpointDir(path.join(base, 'other.sqlite'), 12)).toBe(path.join(base, 'checkpoints', 'other', 'run-12'));
    expect(checkpointDir('rel/x.db', 1)).toBe(path.resolve('rel/checkpoints/x/run-1'));
  });
});
