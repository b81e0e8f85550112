import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Where the nbstudio server extension answers, below the server's base URL. */
export const API_NAMESPACE = 'nbstudio/api';

/**
 * Call the nbstudio REST API and return its JSON answer.
 *
 * Every request of the panel goes through here, so the token, the XSRF cookie and the base URL
 * are handled by JupyterLab's `ServerConnection` in one place. A non-2xx answer is raised as a
 * `ServerConnection.ResponseError` carrying the server's `{"message": ...}`.
 *
 * @param endPoint API path below `/nbstudio/api/`, already URL-encoded, with its query string
 * @param serverSettings the server connection settings (from the app's service manager)
 * @param init initial values for the request
 */
export async function requestAPI<T>(
  endPoint: string,
  serverSettings: ServerConnection.ISettings,
  init: RequestInit = {}
): Promise<T> {
  const requestUrl = URLExt.join(
    serverSettings.baseUrl,
    API_NAMESPACE,
    endPoint
  );
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      requestUrl,
      init,
      serverSettings
    );
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const body = await response.text();
  let data: unknown = body;
  if (body.length > 0) {
    try {
      data = JSON.parse(body);
    } catch {
      data = body;
    }
  }
  if (!response.ok) {
    const message =
      typeof data === 'object' && data !== null && 'message' in data
        ? String((data as { message: unknown }).message)
        : `${response.status} ${response.statusText}`;
    throw new ServerConnection.ResponseError(response, message);
  }
  return data as T;
}
