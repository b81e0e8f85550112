/** Short labels of data versions shared by the Data section and the run view. */

/** The first characters of a sha256 digest, enough to tell versions apart at a glance. */
export function shortDigest(digest: string | null | undefined): string {
  return digest ? digest.slice(0, 12) : '';
}

/** Where a version lives, in one word: its datastore, else "external" (a path or URL). */
export function placeLabel(version: { datastore: string | null }): string {
  return version.datastore ?? 'external';
}
