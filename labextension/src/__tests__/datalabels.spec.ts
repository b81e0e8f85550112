import { placeLabel, shortDigest } from '../datalabels';

describe('shortDigest', () => {
  it('keeps the first 12 hex characters of a sha256', () => {
    expect(shortDigest('a'.repeat(20) + 'b'.repeat(44))).toBe('aaaaaaaaaaaa');
  });
  it('is empty for a missing digest', () => {
    expect(shortDigest(null)).toBe('');
    expect(shortDigest('')).toBe('');
  });
});

describe('placeLabel', () => {
  it('names the datastore, or says external for a plain path', () => {
    expect(placeLabel({ datastore: 'workspaceblobstore' })).toBe(
      'workspaceblobstore'
    );
    expect(placeLabel({ datastore: null })).toBe('external');
  });
});
