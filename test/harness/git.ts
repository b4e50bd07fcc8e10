/** Real Git servers for tests: bare repositories over file://, smart HTTP and SSH. */
export { GitRepos, TEST_AUTHOR, git, harnessGitEnv, makeTempDir } from './git-repo.ts';
export type { CommitAuthor, LogEntry, RepoFiles, GitResult } from './git-repo.ts';
export { startGitHttpServer, startGitSshServer, startGitServers } from './git-server.ts';
export type {
  GitHttpRequestRecord,
  GitHttpRole,
  GitHttpServer,
  GitHttpServerOptions,
  GitHttpUser,
  GitServers,
  GitSshServer,
  StartGitServersOptions,
} from './git-server.ts';
