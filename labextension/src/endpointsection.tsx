/**
 * The side panel's endpoints: one card per endpoint with its state, URL, traffic split and
 * figures, and one line per deployment (model version, state, share, latency).
 */
import * as React from 'react';

import { IEndpoint } from './api';
import { EmptyState, ErrorLine, StatusBadge } from './components';
import { deploymentText, endpointFigures, trafficText } from './endpointlines';
import { PanelModel } from './model';

export function EndpointsSection(props: { model: PanelModel }): JSX.Element {
  const { endpoints } = props.model;
  if (endpoints.items === null) {
    return endpoints.error ? (
      <ErrorLine error={endpoints.error} />
    ) : (
      <div className="nbs-note nbs-loading">Loading…</div>
    );
  }
  if (!endpoints.items.length) {
    return (
      <EmptyState>
        No endpoints. Serve a registered model with{' '}
        <code>%endpoint create my-endpoint</code> then{' '}
        <code>%endpoint deploy my-endpoint blue my-model@champion</code>; its
        URL, deployments, traffic split and request figures show here.
      </EmptyState>
    );
  }
  return (
    <>
      <ErrorLine error={endpoints.error} />
      <ul className="nbs-list">
        {endpoints.items.map((ep: IEndpoint) => (
          <EndpointCard key={ep.name} endpoint={ep} />
        ))}
      </ul>
    </>
  );
}

function EndpointCard(props: { endpoint: IEndpoint }): JSX.Element {
  const ep = props.endpoint;
  const mirrored = Object.values(ep.mirror).some(p => p > 0);
  return (
    <li className="nbs-card" data-endpoint={ep.name}>
      <div className="nbs-row">
        <span className="nbs-name" title={ep.description || ep.name}>
          {ep.name}
        </span>
        <StatusBadge status={ep.state.toUpperCase()} />
      </div>
      <div className="nbs-fields">
        {ep.url && ep.state === 'running' && (
          <span
            className="nbs-field nbs-url"
            title="Scoring URL (POST, Bearer key)"
          >
            {ep.url}
          </span>
        )}
        <span className="nbs-field" data-field="traffic">
          traffic: {trafficText(ep.traffic)}
        </span>
        {mirrored && (
          <span className="nbs-field" data-field="mirror">
            mirror: {trafficText(ep.mirror)}
          </span>
        )}
        <span className="nbs-field" data-field="figures">
          {endpointFigures(ep)}
        </span>
      </div>
      {ep.reason && <ErrorLine error={ep.reason} />}
      {ep.deployments.map(d => (
        <div
          key={d.name}
          className="nbs-fields nbs-deployment"
          data-deployment={d.name}
          title={d.error ?? d.model}
        >
          <span className="nbs-field nbs-deployment-name">{d.name}</span>
          <span className="nbs-field">{deploymentText(d)}</span>
        </div>
      ))}
    </li>
  );
}
