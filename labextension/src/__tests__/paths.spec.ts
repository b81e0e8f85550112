import { notebookContentsPath } from '../paths';

describe('notebookContentsPath', () => {
  it.each([
    ['contents path kept', 'work/train.ipynb', '/home/me', 'work/train.ipynb'],
    ['leading ./ dropped', './train.ipynb', '/home/me', 'train.ipynb'],
    [
      'absolute under the root',
      '/home/me/work/train.ipynb',
      '/home/me',
      'work/train.ipynb'
    ],
    ['root with trailing slash', '/home/me/a.ipynb', '/home/me/', 'a.ipynb'],
    ['root is /', '/srv/a.ipynb', '/', 'srv/a.ipynb'],
    ['outside the root', '/tmp/a.ipynb', '/home/me', null],
    ['sibling prefix is outside', '/home/meme/a.ipynb', '/home/me', null],
    ['unknown root', '/home/me/a.ipynb', null, null],
    ['windows paths', 'C:\\Users\\me\\a.ipynb', 'C:\\Users\\me', 'a.ipynb'],
    ['empty', ' ', '/home/me', null]
  ])('%s', (_, path, root, expected) => {
    // rule: absolute notebook paths open only when under the server root
    expect(notebookContentsPath(path, root)).toBe(expected);
  });
});
