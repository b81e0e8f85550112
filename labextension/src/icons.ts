import { LabIcon } from '@jupyterlab/ui-components';

/** A flask over a rising line: experiments and their metrics. Theme-aware through jp-icon3. */
const NBSTUDIO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M9 2h6v2h-1v5.2l5.6 9.3A2 2 0 0 1 17.9 21H6.1a2 2 0 0 1-1.7-2.5L10 9.2V4H9V2zm3 8.3L9.6 14h4.8L12 10.3z"/>
    <path d="M2 12l3-3 2 2 2.5-3.5 1 .8L7.3 13 5 11l-2 2z"/>
  </g>
</svg>`;

export const nbstudioIcon = new LabIcon({
  name: 'nbstudio:icon',
  svgstr: NBSTUDIO_SVG
});
