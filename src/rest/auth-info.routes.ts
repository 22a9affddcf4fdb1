import type { RestOperation } from "./rest-operation.js";

/** `GET /api/v1/auth/info/`: the calling key's `{id, name, project_id, created_at, expired_at}`. */
export function authInfoOperations(): RestOperation[] {
  return [
    {
      method: "get",
      path: "/api/v1/auth/info/",
      operationId: "getAuthInfo",
      summary: "Describe the API key of this request",
      tag: "Auth",
      responses: [{ status: 200, description: "The calling API key.", schema: "AuthInfo" }],
      handle: async (request) => {
        const { key } = request.context;
        return {
          status: 200,
          schema: "AuthInfo",
          body: {
            id: key.id,
            name: key.name,
            project_id: key.projectId,
            created_at: key.createdAt.toISOString(),
            expired_at: key.expiredAt === null ? null : key.expiredAt.toISOString(),
          },
        };
      },
    },
  ];
}
