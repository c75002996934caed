import { describe, expect, it } from 'vitest';
import {
  admits,
  createSubscriptionBook,
  LOG_LEVELS,
  MAX_KEPT_SUBSCRIPTIONS,
} from './subscriptions.js';

describe('subscription book: subscriptions', () => {
  it('keeps each (instance, uri) once per session, with every session holding it', () => {
    const book = createSubscriptionBook<string>();
    book.add('a', 'i1', 'file:///x');
    book.add('a', 'i1', 'file:///x');
    book.add('b', 'i1', 'file:///x');
    book.add('a', 'i1', 'file:///y');
    book.add('b', 'i2', 'file:///x');
    expect(book.holders('i1', 'file:///x')).toEqual(['a', 'b']);
    expect(book.holders('i1', 'file:///y')).toEqual(['a']);
    expect(book.holders('i2', 'file:///x')).toEqual(['b']);
    expect(book.holders('i2', 'file:///y')).toEqual([]);
    expect(book.holders('i3', 'file:///x')).toEqual([]);
    expect(book.urisOf('i1')).toEqual(['file:///x', 'file:///y']);
    expect(book.urisOf('i2')).toEqual(['file:///x']);
    expect(book.urisOf('i3')).toEqual([]);
  });

  it('remove is true while another session still holds the subscription, false once none does', () => {
    const book = createSubscriptionBook<string>();
    book.add('a', 'i1', 'u');
    book.add('b', 'i1', 'u');
    expect(book.remove('a', 'i1', 'u')).toBe(true);
    expect(book.holders('i1', 'u')).toEqual(['b']);
    expect(book.urisOf('i1')).toEqual(['u']);
    expect(book.remove('b', 'i1', 'u')).toBe(false);
    expect(book.holders('i1', 'u')).toEqual([]);
    expect(book.urisOf('i1')).toEqual([]);
    // Nothing held: nothing keeps it.
    expect(book.remove('a', 'i1', 'u')).toBe(false);
    expect(book.remove('a', 'i9', 'u')).toBe(false);
  });

  it('remove by a session that never held it leaves the holders as they were', () => {
    const book = createSubscriptionBook<string>();
    book.add('a', 'i1', 'u');
    expect(book.remove('b', 'i1', 'u')).toBe(true);
    expect(book.holders('i1', 'u')).toEqual(['a']);
  });

  it('heldByOthers asks about the other sessions only', () => {
    const book = createSubscriptionBook<string>();
    expect(book.heldByOthers('a', 'i1', 'u')).toBe(false);
    book.add('a', 'i1', 'u');
    expect(book.heldByOthers('a', 'i1', 'u')).toBe(false);
    expect(book.heldByOthers('b', 'i1', 'u')).toBe(true);
    book.add('b', 'i1', 'u');
    expect(book.heldByOthers('a', 'i1', 'u')).toBe(true);
    expect(book.heldByOthers('b', 'i1', 'u')).toBe(true);
    // Same URI on another instance is another subscription.
    expect(book.heldByOthers('a', 'i2', 'u')).toBe(false);
    book.remove('b', 'i1', 'u');
    expect(book.heldByOthers('a', 'i1', 'u')).toBe(false);
  });

  it(`keeps at most ${MAX_KEPT_SUBSCRIPTIONS} URIs per instance and session`, () => {
    const book = createSubscriptionBook<string>();
    for (let n = 0; n < MAX_KEPT_SUBSCRIPTIONS; n++) book.add('a', 'i1', `u${n}`);
    expect(book.urisOf('i1')).toHaveLength(MAX_KEPT_SUBSCRIPTIONS);
    book.add('a', 'i1', 'one-more');
    expect(book.holders('i1', 'one-more')).toEqual([]);
    expect(book.urisOf('i1')).toHaveLength(MAX_KEPT_SUBSCRIPTIONS);
    // The bound is per session and per instance.
    book.add('b', 'i1', 'one-more');
    expect(book.holders('i1', 'one-more')).toEqual(['b']);
    book.add('a', 'i2', 'one-more');
    expect(book.holders('i2', 'one-more')).toEqual(['a']);
    // Room made by an unsubscription is room again.
    book.remove('a', 'i1', 'u0');
    book.add('a', 'i1', 'another');
    expect(book.holders('i1', 'another')).toEqual(['a']);
  });

  it('a session that leaves gives the subscriptions no other session holds', () => {
    const book = createSubscriptionBook<string>();
    book.add('a', 'i1', 'shared');
    book.add('b', 'i1', 'shared');
    book.add('a', 'i1', 'own');
    book.add('a', 'i2', 'own');
    book.add('b', 'i2', 'theirs');
    const ended = book.dropSession('a');
    expect(ended).toHaveLength(2);
    expect(ended).toEqual(
      expect.arrayContaining([
        { id: 'i1', uri: 'own' },
        { id: 'i2', uri: 'own' },
      ]),
    );
    expect(book.holders('i1', 'shared')).toEqual(['b']);
    expect(book.urisOf('i1')).toEqual(['shared']);
    expect(book.urisOf('i2')).toEqual(['theirs']);
    expect(book.dropSession('a')).toEqual([]);
    expect(book.dropSession('nobody')).toEqual([]);
    expect(book.dropSession('b')).toEqual(
      expect.arrayContaining([
        { id: 'i1', uri: 'shared' },
        { id: 'i2', uri: 'theirs' },
      ]),
    );
    expect(book.urisOf('i1')).toEqual([]);
    expect(book.urisOf('i2')).toEqual([]);
  });

  it('forgets an instance that left, and only that one', () => {
    const book = createSubscriptionBook<string>();
    book.add('a', 'i1', 'u');
    book.add('b', 'i1', 'v');
    book.add('a', 'i2', 'u');
    book.forget('i1');
    expect(book.urisOf('i1')).toEqual([]);
    expect(book.holders('i1', 'u')).toEqual([]);
    expect(book.heldByOthers('b', 'i1', 'u')).toBe(false);
    expect(book.holders('i2', 'u')).toEqual(['a']);
    // Nothing of the forgotten instance is ended again when its holders leave.
    expect(book.dropSession('b')).toEqual([]);
    expect(book.dropSession('a')).toEqual([{ id: 'i2', uri: 'u' }]);
  });
});

describe('subscription book: log levels', () => {
  it('has no level before any session sets one', () => {
    const book = createSubscriptionBook<string>();
    expect(book.instanceLevel()).toBeUndefined();
    expect(book.levelOf('a')).toBeUndefined();
  });

  it('gives the instances the least severe level any session asked for, when it changes', () => {
    const book = createSubscriptionBook<string>();
    expect(book.setLevel('a', 'warning')).toBe('warning');
    expect(book.setLevel('b', 'debug')).toBe('debug');
    expect(book.instanceLevel()).toBe('debug');
    expect(book.levelOf('a')).toBe('warning');
    expect(book.levelOf('b')).toBe('debug');
    // More severe than the least: the instances' level stays.
    expect(book.setLevel('c', 'error')).toBeUndefined();
    expect(book.setLevel('a', 'info')).toBeUndefined();
    // The same again changes nothing.
    expect(book.setLevel('b', 'debug')).toBeUndefined();
    // The least severe session raises its own: the instances follow the next least.
    expect(book.setLevel('b', 'critical')).toBe('info');
    expect(book.instanceLevel()).toBe('info');
  });

  it('forgets the level of a session that left (reported by the next setLevel that changes it)', () => {
    const book = createSubscriptionBook<string>();
    book.setLevel('a', 'warning');
    book.setLevel('b', 'debug');
    book.dropSession('b');
    expect(book.levelOf('b')).toBeUndefined();
    expect(book.instanceLevel()).toBe('warning');
    // setLevel compares with the level now, not with the one last reported.
    expect(book.setLevel('a', 'warning')).toBeUndefined();
    expect(book.setLevel('a', 'error')).toBe('error');
    book.dropSession('a');
    expect(book.instanceLevel()).toBeUndefined();
  });
});

describe('admits', () => {
  it('takes every message for a session that asked for no level', () => {
    for (const level of LOG_LEVELS) expect(admits(undefined, level)).toBe(true);
  });

  it('takes the asked level and anything more severe, nothing less', () => {
    expect(admits('warning', 'warning')).toBe(true);
    expect(admits('warning', 'error')).toBe(true);
    expect(admits('warning', 'emergency')).toBe(true);
    expect(admits('warning', 'notice')).toBe(false);
    expect(admits('warning', 'debug')).toBe(false);
    expect(LOG_LEVELS.filter((level) => admits('debug', level))).toEqual(LOG_LEVELS);
    expect(LOG_LEVELS.filter((level) => admits('emergency', level))).toEqual(['emergency']);
  });

  it('lists the levels least severe first', () => {
    expect(LOG_LEVELS).toEqual([
      'debug',
      'info',
      'notice',
      'warning',
      'error',
      'critical',
      'alert',
      'emergency',
    ]);
  });
});
