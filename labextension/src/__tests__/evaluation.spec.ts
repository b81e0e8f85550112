import {
  evaluationFigurePaths,
  figureName,
  parseFigure,
  themedLayout
} from '../evaluation';

const entry = (path: string, is_dir = false) => ({
  path,
  is_dir,
  file_size: is_dir ? null : 10
});

describe('evaluationFigurePaths', () => {
  it('keeps evaluation figures only, in display order', () => {
    const paths = evaluationFigurePaths([
      entry('evaluation', true),
      entry('evaluation/permutation_importance.plotly.json'),
      entry('evaluation/zeta.plotly.json'),
      entry('evaluation/roc_curve.plotly.json'),
      entry('evaluation/confusion_matrix.plotly.json'),
      entry('evaluation/sub/other.plotly.json'),
      entry('evaluation/notes.txt'),
      entry('model/MLmodel'),
      entry('roc_curve.plotly.json')
    ]);
    // rule: only files directly in evaluation/ ending .plotly.json, known figures first
    expect(paths).toEqual([
      'evaluation/confusion_matrix.plotly.json',
      'evaluation/roc_curve.plotly.json',
      'evaluation/permutation_importance.plotly.json',
      'evaluation/zeta.plotly.json'
    ]);
    expect(figureName(paths[1])).toBe('roc_curve');
  });
});

describe('parseFigure and themedLayout', () => {
  it('reads a plotly figure and refuses anything else', () => {
    // rule: a figure needs a data array; bad JSON is null, never an exception
    expect(parseFigure('{"data": [], "layout": {"title": "x"}}')).toEqual({
      data: [],
      layout: { title: 'x' }
    });
    expect(parseFigure('{"layout": {}}')).toBeNull();
    expect(parseFigure('not json')).toBeNull();
    expect(parseFigure(undefined)).toBeNull();
  });

  it('drops the template and themes axes', () => {
    const layout = themedLayout(
      {
        template: { data: {} },
        width: 900,
        title: { text: 'ROC curve' },
        xaxis: { title: { text: 'FPR' } },
        xaxis2: {}
      },
      { font: '#111', grid: '#eee' }
    );
    // rule: the card sizes the figure; the theme colours text and grid
    expect(layout.template).toBeUndefined();
    expect(layout.width).toBeUndefined();
    expect((layout.title as { text: string }).text).toBe('ROC curve');
    expect((layout.xaxis as { gridcolor: string }).gridcolor).toBe('#eee');
    expect((layout.xaxis2 as { gridcolor: string }).gridcolor).toBe('#eee');
    // rule: long tick labels (feature names) get room; a tall figure keeps its height
    expect((layout.xaxis as { automargin: boolean }).automargin).toBe(true);
    expect(layout.height).toBe(300);
    expect(themedLayout({ height: 540 }, { font: '', grid: '' }).height).toBe(
      540
    );
  });
});
