import { describe, expect, test } from "bun:test";
import { projectMembers } from "@viper/db/schema/project-members";
import { projects } from "@viper/db/schema/projects";
import { users } from "@viper/db/schema/users";
import { eq } from "drizzle-orm";
import { decodeJwt } from "jose";
import { projectProcedure } from "../src/project-access.ts";
import { appRouter } from "../src/router.ts";
import { mergeRouters, router, verifiedProcedure } from "../src/trpc.ts";
import {
  CookieJar,
  createClient,
  expectError,
  goodPassword,
  signUpWithTokens,
  testDriver,
  testStoreKind,
  uniqueEmail,
  useTestServer,
} from "./helpers/harness.ts";

/** The app plus procedures that exist only to exercise the middleware other routers will use. */
const testRouter = mergeRouters(
  appRouter,
  router({
    probe: router({
      verifiedOnly: verifiedProcedure.query(({ ctx }) => ({ userId: ctx.user.id })),
      developerArea: projectProcedure("developer").query(({ ctx }) => ctx.project),
    }),
  }),
);

describe(`platform roles and access middleware on ${testDriver} + ${testStoreKind}`, () => {
  const server = useTestServer({}, { router: testRouter });

  function probeClient(token?: string) {
    return createClient<typeof testRouter>(server.url, token ? { token } : {});
  }

  /** An admin as the first one is made today: promoted in the database, then signed in. */
  async function signInAdmin() {
    const { email, user } = await signUpWithTokens(server);
    await server.db.update(users).set({ role: "admin" }).where(eq(users.id, user.id));
    const signedIn = await server
      .client()
      .auth.signIn.mutate({ email, password: goodPassword, mode: "token" });
    return { user, token: signedIn.tokens?.accessToken ?? "" };
  }

  test("the platform role is in the token, and admin procedures refuse plain users", async () => {
    const admin = await signInAdmin();
    const plain = await signUpWithTokens(server);

    expect(decodeJwt(admin.token).role).toBe("admin");
    expect(decodeJwt(plain.tokens.accessToken).role).toBe("user");
    await expectError(server.client({ token: plain.tokens.accessToken }).admin.listUsers.query(), {
      code: "FORBIDDEN",
      appCode: "ADMIN_REQUIRED",
    });
    await expectError(server.client().admin.listUsers.query(), { code: "UNAUTHORIZED" });
  });

  test("a demoted admin is refused at once, whatever the token says", async () => {
    const admin = await signInAdmin();
    await server.db.update(users).set({ role: "user" }).where(eq(users.id, admin.user.id));

    await expectError(server.client({ token: admin.token }).admin.listUsers.query(), {
      appCode: "ADMIN_REQUIRED",
    });
  });

  test("admins page through users newest first and search them", async () => {
    const admin = await signInAdmin();
    const api = server.client({ token: admin.token });
    const tag = `paging${Date.now()}`;
    const emails: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const email = uniqueEmail(tag);
      emails.push(email);
      await server.client().auth.register.mutate({ email, password: goodPassword });
    }

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page += 1) {
      const result = await api.admin.listUsers.query({
        limit: 2,
        search: tag,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...result.users.map((user) => user.email ?? ""));
      if (!result.nextCursor) {
        break;
      }
      cursor = result.nextCursor;
    }

    expect(seen).toEqual([...emails].reverse());
  });

  test("a disabled user's cookie session, tokens and refresh token stop working at once", async () => {
    const admin = await signInAdmin();
    const target = await signUpWithTokens(server);
    const jar = new CookieJar();
    await server
      .client({ jar })
      .auth.signIn.mutate({ email: target.email, password: goodPassword });

    const disabled = await server
      .client({ token: admin.token })
      .admin.disableUser.mutate({ userId: target.user.id });

    expect(disabled.disabled).toBe(true);
    await expectError(server.client({ jar }).profile.get.query(), { code: "UNAUTHORIZED" });
    await expectError(server.client({ token: target.tokens.accessToken }).profile.get.query(), {
      code: "UNAUTHORIZED",
    });
    await expectError(
      server.client().auth.refresh.mutate({ refreshToken: target.tokens.refreshToken }),
      {
        code: "UNAUTHORIZED",
      },
    );
    await expectError(
      server.client().auth.signIn.mutate({ email: target.email, password: goodPassword }),
      {
        code: "FORBIDDEN",
        appCode: "ACCOUNT_DISABLED",
      },
    );

    await server.client({ token: admin.token }).admin.enableUser.mutate({ userId: target.user.id });
    const back = await server
      .client()
      .auth.signIn.mutate({ email: target.email, password: goodPassword });
    expect(back.user.disabled).toBe(false);
  });

  test("admins cannot disable themselves, nor users that do not exist", async () => {
    const admin = await signInAdmin();
    const api = server.client({ token: admin.token });

    await expectError(api.admin.disableUser.mutate({ userId: admin.user.id }), {
      appCode: "CANNOT_CHANGE_SELF",
    });
    await expectError(api.admin.disableUser.mutate({ userId: crypto.randomUUID() }), {
      code: "NOT_FOUND",
    });
  });

  test("verifiedProcedure refuses an unverified account until its email is verified", async () => {
    const email = uniqueEmail("unverified");
    await server.client().auth.register.mutate({ email, password: goodPassword });
    const signedIn = await server
      .client()
      .auth.signIn.mutate({ email, password: goodPassword, mode: "token" });
    const verified = await signUpWithTokens(server);

    await expectError(probeClient(signedIn.tokens?.accessToken).probe.verifiedOnly.query(), {
      code: "FORBIDDEN",
      appCode: "EMAIL_NOT_VERIFIED",
    });
    const allowed = await probeClient(verified.tokens.accessToken).probe.verifiedOnly.query();
    expect(allowed.userId).toBe(verified.user.id);
  });

  test("projectProcedure admits members at the role asked for and hides the project from others", async () => {
    const owner = await signUpWithTokens(server);
    const viewer = await signUpWithTokens(server);
    const stranger = await signUpWithTokens(server);
    const [project] = await server.db
      .insert(projects)
      .values({ name: "roles demo", ownerId: owner.user.id })
      .returning({ id: projects.id });
    const projectId = project?.id ?? "";
    await server.db.insert(projectMembers).values([
      { projectId, userId: owner.user.id, role: "owner" },
      { projectId, userId: viewer.user.id, role: "viewer" },
    ]);

    expect(
      await probeClient(owner.tokens.accessToken).probe.developerArea.query({ projectId }),
    ).toEqual({
      id: projectId,
      role: "owner",
    });
    await expectError(
      probeClient(viewer.tokens.accessToken).probe.developerArea.query({ projectId }),
      {
        code: "FORBIDDEN",
        appCode: "PROJECT_ROLE_REQUIRED",
      },
    );
    await expectError(
      probeClient(stranger.tokens.accessToken).probe.developerArea.query({ projectId }),
      {
        code: "NOT_FOUND",
      },
    );
  });
});
