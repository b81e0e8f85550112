/**
 * Turn the notebook a run came from into a Jupyter contents path the document manager can open.
 *
 * The API promises a contents path (relative to the server root), but the tag it comes from is
 * whatever the kernel saw in ``JPY_SESSION_NAME``, which jupyter_server 2 sets to the absolute
 * file path. Both forms are accepted here.
 */

function isAbsolute(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path);
}

function normalise(path: string): string {
  return path.replace(/\\/g, '/').replace(/\/+$/, '');
}

/**
 * The contents path of ``path`` for a server whose root is ``serverRoot``, or null when the file
 * lies outside that root (it cannot be opened from this JupyterLab).
 */
export function notebookContentsPath(
  path: string,
  serverRoot: string | null
): string | null {
  const clean = normalise(path.trim());
  if (!clean) {
    return null;
  }
  if (!isAbsolute(clean)) {
    return clean.replace(/^\.\//, '');
  }
  if (!serverRoot || !isAbsolute(serverRoot)) {
    return null;
  }
  const root = normalise(serverRoot);
  if (root === '') {
    return clean.slice(1); // the server root is "/"
  }
  return clean.startsWith(`${root}/`) ? clean.slice(root.length + 1) : null;
}
