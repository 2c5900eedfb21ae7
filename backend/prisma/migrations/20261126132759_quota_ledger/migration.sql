-- CreateTable
CREATE TABLE "QuotaHold" (
    "askId" TEXT NOT NULL PRIMARY KEY,
    "userId" INTEGER NOT NULL,
    "model" TEXT NOT NULL,
    "totalGen" INTEGER,
    "modelGen" INTEGER,
    "createdAt" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ModelQuota" (
    "userId" INTEGER NOT NULL,
    "model" TEXT NOT NULL,
    "remaining" INTEGER NOT NULL,
    "gen" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("userId", "model"),
    CONSTRAINT "ModelQuota_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_ModelQuota" ("model", "remaining", "userId") SELECT "model", "remaining", "userId" FROM "ModelQuota";
DROP TABLE "ModelQuota";
ALTER TABLE "new_ModelQuota" RENAME TO "ModelQuota";
CREATE TABLE "new_UserLimits" (
    "userId" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "validUntil" DATETIME,
    "allowedModels" TEXT,
    "maxConversations" INTEGER NOT NULL DEFAULT -1,
    "totalAsks" INTEGER NOT NULL DEFAULT -1,
    "totalAsksGen" INTEGER NOT NULL DEFAULT 0,
    "maxInFlight" INTEGER NOT NULL DEFAULT 1,
    "rateWindows" TEXT NOT NULL DEFAULT '[]',
    "timeSlots" TEXT NOT NULL DEFAULT '[]',
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "UserLimits_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_UserLimits" ("allowedModels", "enabled", "maxConversations", "maxInFlight", "rateWindows", "timeSlots", "totalAsks", "updatedAt", "userId", "validUntil") SELECT "allowedModels", "enabled", "maxConversations", "maxInFlight", "rateWindows", "timeSlots", "totalAsks", "updatedAt", "userId", "validUntil" FROM "UserLimits";
DROP TABLE "UserLimits";
ALTER TABLE "new_UserLimits" RENAME TO "UserLimits";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "QuotaHold_userId_idx" ON "QuotaHold"("userId");
