import { IEndpoint, IEndpointDeployment } from '../api';
import { deploymentText, endpointFigures, trafficText } from '../endpointlines';

const blue: IEndpointDeployment = {
  name: 'blue',
  model: 'iris@champion',
  model_name: 'iris',
  model_version: '3',
  model_uri: 'models:/iris/3',
  state: 'ready',
  traffic: 90,
  mirror: 0,
  pid: 123,
  error: null,
  restarts: 0,
  ready_since: 1,
  created: 1,
  metrics: {
    requests: 40,
    failures: 0,
    client_errors: 0,
    mirrored: 0,
    rate: 0.5,
    latency_ms: { p50: 3.2, p95: 12.5, p99: 20 },
    last_request: 2
  },
  collect_inputs: 0
};

const endpoint: IEndpoint = {
  name: 'iris',
  state: 'running',
  reason: null,
  url: 'http://127.0.0.1:5000/score',
  port: 5000,
  pid: 99,
  description: '',
  created: 1,
  traffic: { blue: 90, green: 10 },
  mirror: {},
  metrics: { requests: 120, failures: 2, client_errors: 0, rate: 1.5 },
  deployments: [blue]
};

describe('endpoint lines', () => {
  it('says the traffic split of deployments with a share', () => {
    // rule: only deployments with traffic are named, in their order
    expect(trafficText({ blue: 90, green: 10, red: 0 })).toBe(
      'blue 90% · green 10%'
    );
    expect(trafficText({})).toBe('no traffic');
  });

  it('sums the figures of an endpoint in words', () => {
    // rule: requests always, failures and rate only when there are some
    expect(endpointFigures(endpoint)).toBe(
      '120 requests · 2 failures · 1.5 req/s'
    );
    const quiet = {
      ...endpoint,
      metrics: { requests: 1, failures: 0, client_errors: 0, rate: 0 }
    };
    expect(endpointFigures(quiet)).toBe('1 request');
  });

  it('describes a deployment by model version, state, share and latency', () => {
    expect(deploymentText(blue)).toBe(
      'iris/3 · ready · 90% · p95 12.5 ms · 40 requests'
    );
    // rule: a deployment without requests yet has no figures, only what it serves
    const fresh = { ...blue, traffic: 0, mirror: 10, metrics: {}, restarts: 2 };
    expect(deploymentText(fresh)).toBe(
      'iris/3 · ready · 0% (mirror 10%) · 2 restarts'
    );
    // rule: a deployment that collects its inputs says how many
    expect(deploymentText({ ...fresh, collect_inputs: 0.5 })).toBe(
      'iris/3 · ready · 0% (mirror 10%) · 2 restarts · collects 50% of inputs'
    );
  });
});
