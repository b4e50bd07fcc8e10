import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goCleanRelative, isRemoteFile, isRemoteRepo, urlScheme } from './remote.ts';

// The cases are kustomize's own (api/internal/git/repospec_test.go and
// api/internal/loader/fileloader_test.go at api/v0.20.1, the kustomize of kubectl 1.35): what
// NewRepoSpecFromURL parses is cloned, what IsRemoteFile accepts is fetched.

describe('remote references, as kustomize tells them from local paths', () => {
  it("every URL of kustomize's permutation test is a repository", () => {
    const hosts = [
      'gitHub.com/',
      'github.com:',
      'http://github.com/',
      'https://github.com/',
      'hTTps://github.com/',
      'https://git-codecommit.us-east-2.amazonaws.com/',
      'https://fabrikops2.visualstudio.com/',
      'ssh://git.example.com:7999/',
      'git::https://gitlab.com/',
      'git::http://git.example.com/',
      'git::https://git.example.com/',
      'git@github.com:',
      'git@github.com/',
      'git::git@github.com:',
      'org-12345@github.com:',
      'org-12345@github.com/',
    ];
    let count = 0;
    for (const host of hosts) {
      for (const repo of ['someOrg/someRepo', 'kubernetes/website']) {
        for (const path of ['README.md', 'foo/krusty.txt', '']) {
          for (const ref of ['group/version', 'someBranch', 'master', 'v0.1.0', '']) {
            const url = host + (path ? `${repo}/${path}` : repo) + (ref ? `?ref=${ref}` : '');
            assert.equal(isRemoteRepo(url), true, url);
            count++;
          }
        }
      }
    }
    assert.equal(count, 480);
  });

  it("kustomize's smoke-test URLs are repositories", () => {
    for (const url of [
      'https://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo/somedir?ref=testbranch',
      'https://fabrikops2.visualstudio.com/someorg/somerepo?ref=master',
      'git@github.com:someorg/somerepo.git/somedir',
      'git@gitlab2.sqtools.ru:infra/kubernetes/thanos-base.git?ref=v0.1.0',
      'git@bitbucket.org/company/project.git//path?ref=branch',
      'ssh://git@bitbucket.org/company/project.git//path?ref=branch',
      'https://itfs.mycompany.com/collection/project/_git/somerepos/somedir?version=v1.0.0',
      'git::https://itfs.mycompany.com/collection/project/_git/somerepos',
      'https://bitbucket.example.com/scm/project/repository.git',
      'file://a/b/c/someRepo.git/somepath?ref=someBranch',
      'file:///a/b/c/someRepo?ref=someBranch',
      'file:///',
      'https://authority/org/repo/?ref=includes_git/for_some_reason',
      'https://authority/org/repo/%-invalid-uri-so-not-parsable-by-net/url.Parse',
      'file://git@home/path/to/repository.git//path?ref=branch',
      'ssh://git@ssh.github.com:443/YOUR-USERNAME/YOUR-REPOSITORY.git',
      'git@gitlab.com/user:name/YOUR-REPOSITORY.git/path',
      'git@gitlab.com:gitlab-tests/sample-project',
      'https://username@dev.azure.com/org/project/_git/repo//path/to/kustomization/root',
      'org-12345@github.com/kubernetes-sigs/kustomize',
      'git@gist.github.com:bc7947cb727d7f9217e7862d961a1ffd.git',
    ]) {
      assert.equal(isRemoteRepo(url), true, url);
    }
  });

  it("what kustomize's error cases refuse to parse stays a local path", () => {
    for (const url of [
      '/tmp',
      '../../tmp',
      'src/github.com/org/repo/path',
      'iauhsdiuashduas',
      'htxxxtp://github.com/',
      'ssh://git.example.com',
      'git::___',
      'https://host?ref=group/version/minor_version',
      'https://github.com/org/repo.git//path/../../exits/repo',
      'github.com!org/repo.git//path',
      'gh:org/repo',
      'https://github.com/thisisa404.yaml',
      'file:////tmp//path/to/whatever',
      'git@scp://github.com/org/repo.git//path',
      'git@ssh://github.com/org/repo.git//path',
      // and what any kustomization holds
      'deployment.yaml',
      '../base',
      'overlays/prod',
      // one segment after the host is no repository: a file kustomize would fetch, not clone
      'https://127.0.0.1:8080/cm.yaml',
    ]) {
      assert.equal(isRemoteRepo(url), false, url);
    }
  });

  it('IsRemoteFile: an http or https scheme, in any case, as net/url finds it', () => {
    const cases: Array<[string, boolean]> = [
      ['https://raw.githubusercontent.com/kubernetes-sigs/kustomize/master/examples/helloWorld/configMap.yaml', true],
      ['https:/raw.githubusercontent.com/kubernetes-sigs/kustomize/master/examples/helloWorld/configMap.yaml', true],
      ['https://github.com/kubernetes-sigs/kustomize//examples/helloWorld/', true],
      ['github.com/kubernetes-sigs/kustomize//examples/helloWorld/', false],
      ['ssh://git@github.com/kubernetes-sigs/kustomize.git', false],
      ['pod.yaml', false],
      ['HTTP://127.0.0.1:8080/x', true],
      ['http:x', true],
      ['key=http://127.0.0.1/x', false], // a generator's key=path source: the path part is checked on its own
      ['./http://127.0.0.1/x', false],
      ['1http://x', false],
      [':http://x', false],
    ];
    for (const [value, remote] of cases) assert.equal(isRemoteFile(value), remote, value);
    assert.equal(urlScheme('Git+SSH://x'), 'git+ssh');
  });

  it("Go's ToLower: a dotted capital I reads as i in github.com", () => {
    assert.equal(isRemoteRepo('g\u0130thub.com/org/repo'), true);
    assert.equal(isRemoteRepo('GITHUB.COM/org/repo'), true);
  });

  it("filepath.Clean of a relative path, as kustomize's repo-exit check uses it", () => {
    assert.equal(goCleanRelative(''), '.');
    assert.equal(goCleanRelative('a/../../x'), '../x');
    assert.equal(goCleanRelative('./a//b/'), 'a/b');
    assert.equal(goCleanRelative('../..'), '../..');
  });
});
