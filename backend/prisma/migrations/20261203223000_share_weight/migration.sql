-- AlterTable
ALTER TABLE "UserLimits" ADD COLUMN "shareWeight" INTEGER NOT NULL DEFAULT 1;
