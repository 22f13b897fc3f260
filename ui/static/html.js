// html is the tagged template every component renders with: htm turns the
// template into preact's h() calls at run time, so no JSX build is needed.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
