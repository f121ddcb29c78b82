Feature: A value that makes no sense holds back only the work it belongs to
  As an office worker who keeps Spotilla's registers and work orders
  I want a task with a value that cannot be read or makes no sense to wait, with a reason naming the value
  so that one mistyped figure never stops the invoicing of the rest of our work, and I know what to correct

  Background:
    Given the organization uses the Procountor integration
    And Spotilla's product register has:
      | code  | name              | unit | unit price | VAT % |
      | ASE-1 | Installation work | h    | 49.90      | 25.5  |
      | KM    | Travel            | km   | 0.59       | 25.5  |
    And Spotilla's customer register has:
      | name        | business ID |
      | Rakennus Oy | 0112038-9   |
    And a completed task 501 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 2        |

  Scenario: A quantity that is not a number holds back only its own task
    Given a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And the quantity of "ASE-1" on task 502 is "kolme", which is not a number
    When the integration runs
    Then an invoice is made for task 501
    And no invoice is made for task 502
    And task 502 is held back because QUANTITY_INVALID
    And the reason says "which is not a number; enter the quantity used in Spotilla."

  Scenario: A price that is not a number holds back the tasks using the product, and no others
    Given a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | KM      | 12       |
    And the unit price of product "KM" is "ilmainen", which is not a number
    When the integration runs
    Then an invoice is made for task 501
    And no invoice is made for task 502
    And task 502 is held back because PRICE_INVALID
    And product "KM" is held back because PRICE_INVALID

  Scenario: A product that no task uses, with a price that is not a number, stops no one
    Given the unit price of product "KM" is "ilmainen", which is not a number
    When the integration runs
    Then an invoice is made for task 501
    And product "KM" is held back because PRICE_INVALID

  Scenario: A completed task whose completion time is missing is held back
    Given a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And the completion time of task 502 is missing
    When the integration runs
    Then an invoice is made for task 501
    And no invoice is made for task 502
    And task 502 is held back because COMPLETION_TIME_MISSING
    And the reason says "set when it was completed in Spotilla"

  Scenario: A completion time that cannot be read is held back naming what was written
    Given a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And the completion time of task 502 is written as "eilen illalla"
    When the integration runs
    Then an invoice is made for task 501
    And task 502 is held back because VALUE_UNREADABLE
    And the reason says "The completion time of the task is 'eilen illalla'"

  Scenario: A task finished at a time in the future is held back until the time is corrected
    Given a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And task 502 was finished 400 days from now
    When the integration runs
    Then an invoice is made for task 501
    And no invoice is made for task 502
    And task 502 is held back because COMPLETION_TIME_IN_FUTURE
    And the reason says "which is still in the future; correct the completion time in Spotilla."

  Scenario: A task finished a few minutes from now, as clocks differ a little, is invoiced
    Given a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    And task 502 was finished 5 minutes from now
    When the integration runs
    Then an invoice is made for task 502

  Scenario: A quantity above the organization's ceiling is held back
    Given a completed task 502 for "Rakennus Oy" with:
      | product | quantity      |
      | ASE-1   | 999999999.999 |
    When the integration runs
    Then an invoice is made for task 501
    And no invoice is made for task 502
    And task 502 is held back because QUANTITY_ABOVE_CEILING
    And the reason says "The task's quantity 999999999.999 of Installation work is above this organization's ceiling of 10000; correct it in Spotilla."

  Scenario: An invoice that would total more than the organization's ceiling is held back
    Given a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | ASE-1   | 2000     |
    When the integration runs
    Then an invoice is made for task 501
    And no invoice is made for task 502
    And task 502 is held back because TOTAL_ABOVE_CEILING
    And the reason says "The invoice would total 125249.00 € with VAT, above this organization's ceiling of 100000.00 € per invoice"

  Scenario: A payment term that cannot be read holds back the customer and its work
    Given Spotilla's customer register also has:
      | name     | business ID |
      | Kiire Oy | 1572860-0   |
    And the payment term of customer "Kiire Oy" is written as "pian"
    And a completed task 502 for "Kiire Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    When the integration runs
    Then an invoice is made for task 501
    And no invoice is made for task 502
    And task 502 is held back because VALUE_UNREADABLE
    And the reason says "The payment term of customer Kiire Oy is 'pian'"
    And customer "Kiire Oy" is held back because VALUE_UNREADABLE

  Scenario: A task for a customer of another organization is held back
    Given another organization has a customer "Vieras Oy" with business ID "1572860-0"
    And a completed task 502 for "Vieras Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    When the integration runs
    Then an invoice is made for task 501
    And no invoice is made for task 502
    And task 502 is held back because CUSTOMER_NOT_FOUND
    And Procountor has 0 partners with business ID "1572860-0"

  Scenario: A task using a product of another organization is held back
    Given another organization has a product "VIERAS" "Foreign product" at 10.00 per h with VAT 25.5 %
    And a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | VIERAS  | 1        |
    When the integration runs
    Then an invoice is made for task 501
    And no invoice is made for task 502
    And task 502 is held back because PRODUCT_NOT_FOUND
    And Procountor has no product with code "VIERAS"

  Scenario: Line breaks, tabs and stray control characters in a name are not sent
    Given Spotilla's customer register also has a customer "Rivi Oy" with business ID "1572860-0" whose name was typed with a line break, a tab and a stray control character
    And a completed task 502 for "Rivi Oy" with:
      | product | quantity |
      | ASE-1   | 1        |
    When the integration runs
    Then an invoice is made for task 502
    And the invoice of task 502 is made out to the Procountor partner of "Rivi Oy" with business ID "1572860-0"
    And Procountor has one customer "Rivi Oy" with business ID "1572860-0"

  Scenario: A name of thousands of characters is not repeated whole in a reason
    Given Spotilla's product register also has product "PITKA" with a name of 10000 characters
    And a completed task 502 for "Rakennus Oy" with:
      | product | quantity |
      | PITKA   | 0        |
    When the integration runs
    Then an invoice is made for task 501
    And task 502 is held back because QUANTITY_NOT_POSITIVE
    And no reason given for task 502 is longer than 300 characters
