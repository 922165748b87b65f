/** The packages layer: rpm and deb backends, backend selection, and the package downloader. */
export type { BackendKind, InstalledPackage, PackageBackend } from './types.js';
export { DebBackend, parseDpkgQuery, type DebBackendOptions } from './deb-backend.js';
export { RpmBackend, parseRpmQuery, type RpmBackendOptions } from './rpm-backend.js';
export { selectBackend, backendKindFor, parseOsRelease, type SelectBackendOptions } from './select-backend.js';
export { PackageDownloader, type DownloadRequest, type DownloadProgress, type PackageDownloaderOptions } from './downloader.js';
export { checkUrl, mapUrlForBackend, cacheFileName, redactUrl } from './url-policy.js';
export type { ToolRunner, ToolResult, ToolOptions } from './run-tool.js';
export { inspectCached } from './inspect-cache.js';
