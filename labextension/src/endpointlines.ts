/**
 * The text of an endpoint's card in the side panel, from its typed record (`IEndpoint`):
 * one place that decides what a row says, so the panel never dumps raw fields.
 */
import { IEndpoint, IEndpointDeployment } from './api';
import { formatValue } from './format';

/** "blue 90% · green 10%" (deployments with a share), or "no traffic". */
export function trafficText(weights: Record<string, number>): string {
  const parts = Object.entries(weights)
    .filter(([, percent]) => percent > 0)
    .map(([name, percent]) => `${name} ${percent}%`);
  return parts.length ? parts.join(' · ') : 'no traffic';
}

function plural(count: number, word: string): string {
  return `${formatValue(count)} ${word}${count === 1 ? '' : 's'}`;
}

/** "120 requests · 2 failures · 1.5 req/s" over all deployments. */
export function endpointFigures(ep: IEndpoint): string {
  const m = ep.metrics;
  const parts = [plural(m.requests, 'request')];
  if (m.failures) {
    parts.push(plural(m.failures, 'failure'));
  }
  if (m.client_errors) {
    parts.push(`${formatValue(m.client_errors)} refused (4xx)`);
  }
  if (m.rate) {
    parts.push(`${formatValue(m.rate)} req/s`);
  }
  return parts.join(' · ');
}

/** "iris/3 · ready · 90% (mirror 10%) · p95 12.5 ms · 40 requests" for a deployment (and
 * "collects 50% of inputs" when its data collector is on). */
export function deploymentText(d: IEndpointDeployment): string {
  const parts = [`${d.model_name}/${d.model_version}`, d.state];
  const mirror = d.mirror ? ` (mirror ${d.mirror}%)` : '';
  parts.push(`${d.traffic}%${mirror}`);
  const p95 = d.metrics.latency_ms?.p95;
  if (typeof p95 === 'number') {
    parts.push(`p95 ${formatValue(p95)} ms`);
  }
  if (d.metrics.requests) {
    parts.push(plural(d.metrics.requests, 'request'));
  }
  if (d.restarts) {
    parts.push(plural(d.restarts, 'restart'));
  }
  if (d.collect_inputs > 0) {
    parts.push(`collects ${formatValue(d.collect_inputs * 100)}% of inputs`);
  }
  return parts.join(' · ');
}
